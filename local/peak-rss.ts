import { readFileSync } from 'node:fs';

/** This process's peak resident memory so far (VmHWM), in MB: what a Lambda's memory limit is compared with. */
export function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}
