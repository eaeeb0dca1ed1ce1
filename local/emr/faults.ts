import { ServiceError } from '../aws-json';
import { ec2InstanceId, type CreationFaultKind, type ReasonCode } from './model';

/** Fault injection: what the tests and the chaos CLI arm, and the messages EMR would give. */

interface ArmedCreationFault {
  subnetId?: string;
  availabilityZone?: string;
  kind: CreationFaultKind;
  remaining: number;
}

/** Creation faults by subnet and/or AZ, each for the next `times` clusters made there. */
export class CreationFaults {
  private armed: ArmedCreationFault[] = [];

  arm(where: { subnetId?: string; availabilityZone?: string }, kind: CreationFaultKind, times = 1): void {
    if (!where.subnetId && !where.availabilityZone) throw new Error('local EMR: failCreation needs a subnetId or an availabilityZone');
    if (!['capacity', 'az-impaired', 'bootstrap'].includes(kind)) throw new Error(`local EMR: unknown creation fault ${kind}`);
    if (!(times > 0)) throw new Error(`local EMR: failCreation times must be positive, not ${times}`);
    this.armed.push({ ...where, kind, remaining: times });
  }

  clear(): void {
    this.armed = [];
  }

  private matching(subnetId: string | undefined, availabilityZone: string | undefined): ArmedCreationFault | undefined {
    return this.armed.find((f) => (!f.subnetId || f.subnetId === subnetId) && (!f.availabilityZone || f.availabilityZone === availabilityZone));
  }

  /** A cluster created there would fail (RunJobFlow prefers a subnet without a fault, as EMR prefers one with capacity). */
  isArmed(subnetId: string | undefined, availabilityZone: string | undefined): boolean {
    return this.matching(subnetId, availabilityZone) !== undefined;
  }

  /** The fault the cluster created there now gets, counted off. */
  take(subnetId: string | undefined, availabilityZone: string | undefined): CreationFaultKind | undefined {
    const fault = this.matching(subnetId, availabilityZone);
    if (!fault) return undefined;
    fault.remaining -= 1; // Infinity stays Infinity
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault.kind;
  }
}

/** How a creation fault ends the cluster: the reason EMR would give. */
export function creationFailure(kind: CreationFaultKind, where: { availabilityZone: string; instanceType?: string }): { code: ReasonCode; message: string } {
  switch (kind) {
    case 'capacity':
      return {
        code: 'INSTANCE_FLEET_TIMEOUT',
        message: `EC2 has insufficient capacity for ${where.instanceType ?? 'the requested instance type'} in ${where.availabilityZone} (InsufficientInstanceCapacity) (local fault injection)`,
      };
    case 'az-impaired':
      return {
        code: 'INTERNAL_ERROR',
        message: `The cluster could not be provisioned: Availability Zone ${where.availabilityZone} is impaired (local fault injection).`,
      };
    case 'bootstrap':
      return {
        code: 'BOOTSTRAP_FAILURE',
        message: `On the master instance (${ec2InstanceId()}), bootstrap action 1 returned a non-zero return code (local fault injection)`,
      };
  }
}

/** makeUnhealthy's reason: the cluster lost its machines. */
export function instanceFailure(how: 'terminated' | 'az-impaired', availabilityZone: string): { code: ReasonCode; message: string } {
  return {
    code: 'INSTANCE_FAILURE',
    message:
      how === 'az-impaired'
        ? `The cluster lost its instances: Availability Zone ${availabilityZone} is impaired (local fault injection).`
        : 'The master node was lost: the cluster terminated with errors (local fault injection).',
  };
}

export type ApiFaultType = 'InternalServerError' | 'ThrottlingException';

/** The next API calls answer with an error instead of their result. */
export class ApiFaults {
  private queue: ApiFaultType[] = [];

  push(count: number, errorType: ApiFaultType): void {
    for (let i = 0; i < count; i++) this.queue.push(errorType);
  }

  /** Throws the next armed error, if any (before an operation runs). */
  check(): void {
    const fault = this.queue.shift();
    if (fault === 'InternalServerError') throw new ServiceError('InternalServerError', 'Internal server error (local fault injection)', 500);
    if (fault) throw new ServiceError(fault, 'Rate exceeded (local fault injection)', 400);
  }
}
