import { describe, expect, it } from 'vitest';
import { EmrSettingsError, emrSettingsFromEnv, runJobFlowInput, type ClusterSpec } from '../../shared/core/emr/cluster-spec';
import { MissingSettingError } from '../../shared/core/errors';

const cells = [
  { name: 'cell-a', availabilityZone: 'us-east-1a', subnetId: 'subnet-a', routingControlArn: 'arn:rc/a', clusterId: 'j-A' },
  { name: 'cell-b', availabilityZone: 'us-east-1b', subnetId: 'subnet-b', routingControlArn: 'arn:rc/b', clusterId: 'j-B' },
];
const spec: ClusterSpec = {
  stack: 'landfall-dev',
  releaseLabel: 'emr-7.13.0',
  logUri: 's3://lake/emr-logs/',
  serviceRole: 'svc',
  jobFlowRole: 'profile',
  idleTimeoutSeconds: 600,
  provisionTimeoutMinutes: 45,
  primary: { instanceTypes: ['m7g.xlarge', 'm6g.xlarge'], capacity: 1 },
  core: { instanceTypes: ['m7g.xlarge'], capacity: 2 },
  task: { instanceTypes: ['m7g.xlarge', 'r7g.xlarge'], capacity: 4 },
  tags: { team: 'data' },
};
const env = (over: Record<string, string | undefined> = {}) => ({ EMR_CELLS: JSON.stringify(cells), EMR_CLUSTER_SPEC: JSON.stringify(spec), ...over });

describe('the EMR settings (emrstep environment)', () => {
  it('reads transient mode by default, with the roles from their own variables', () => {
    const settings = emrSettingsFromEnv(env({ EMR_SERVICE_ROLE: 'stack-svc', EMR_INSTANCE_PROFILE: 'stack-profile' }));
    expect(settings.mode).toBe('transient');
    expect(settings.cells.map((c) => c.name)).toEqual(['cell-a', 'cell-b']);
    expect(settings.cluster).toMatchObject({ serviceRole: 'stack-svc', jobFlowRole: 'stack-profile', idleTimeoutSeconds: 600 });
  });

  it("needs no cluster spec in standing mode, but each cell's cluster id", () => {
    expect(emrSettingsFromEnv({ EMR_MODE: 'standing', EMR_CELLS: JSON.stringify(cells) })).toEqual({ mode: 'standing', cells });
    const noId = cells.map(({ clusterId: _c, ...c }) => c);
    expect(() => emrSettingsFromEnv({ EMR_MODE: 'standing', EMR_CELLS: JSON.stringify(noId) })).toThrow(
      /EMR_CELLS\[0\] \(cell-a\): standing mode needs the cell's clusterId/,
    );
  });

  it('refuses what would fail later, naming the setting', () => {
    const cases: Array<[Record<string, string | undefined>, RegExp]> = [
      [{ EMR_MODE: 'serverless' }, /EMR_MODE must be transient or standing, not 'serverless'/],
      [{ EMR_CELLS: JSON.stringify(cells.slice(0, 1)) }, /EMR_CELLS must name exactly two cells/],
      [{ EMR_CELLS: JSON.stringify([cells[0], cells[0]]) }, /different names/],
      [{ EMR_CELLS: JSON.stringify(cells.map(({ subnetId: _s, ...c }) => c)) }, /transient mode needs the cell's subnetId/],
      [{ EMR_CELLS: '[{' }, /EMR_CELLS is not valid JSON/],
      [{ EMR_CLUSTER_SPEC: JSON.stringify({ ...spec, idleTimeoutSeconds: 30 }) }, /idleTimeoutSeconds must be a whole number of seconds from 60 to 604800/],
      [{ EMR_CLUSTER_SPEC: JSON.stringify({ ...spec, primary: { instanceTypes: ['m7g.xlarge'], capacity: 2 } }) }, /primary.capacity must be 1/],
      [{ EMR_CLUSTER_SPEC: JSON.stringify({ ...spec, core: { instanceTypes: [], capacity: 2 } }) }, /core.instanceTypes must list at least one/],
      [{ EMR_CLUSTER_SPEC: JSON.stringify({ ...spec, serviceRole: '' }) }, /serviceRole must be set \(or EMR_SERVICE_ROLE\)/],
    ];
    for (const [over, message] of cases) {
      expect(() => emrSettingsFromEnv(env(over)), JSON.stringify(over)).toThrow(EmrSettingsError);
      expect(() => emrSettingsFromEnv(env(over))).toThrow(message);
    }
    expect(() => emrSettingsFromEnv(env({ EMR_CLUSTER_SPEC: undefined }))).toThrow(MissingSettingError);
  });
});

describe('RunJobFlow for a cell', () => {
  it("asks for On-Demand primary and core fleets and a Spot task fleet in the cell's subnet, kept alive between steps and ended by the idle timeout", () => {
    const input = runJobFlowInput(spec, cells[1]!, 7);
    expect(input.Name).toBe('landfall-landfall-dev-cell-b-g7');
    expect(input).toMatchObject({
      ReleaseLabel: 'emr-7.13.0',
      LogUri: 's3://lake/emr-logs/',
      ServiceRole: 'svc',
      JobFlowRole: 'profile',
      Applications: [{ Name: 'Spark' }],
      AutoTerminationPolicy: { IdleTimeout: 600 },
    });
    expect(input.Instances).toMatchObject({ Ec2SubnetIds: ['subnet-b'], KeepJobFlowAliveWhenNoSteps: true, TerminationProtected: false });
    const fleets = input.Instances!.InstanceFleets!;
    expect(fleets.map((f) => [f.InstanceFleetType, f.TargetOnDemandCapacity, f.TargetSpotCapacity, f.InstanceTypeConfigs!.map((t) => t.InstanceType)])).toEqual(
      [
        ['MASTER', 1, undefined, ['m7g.xlarge', 'm6g.xlarge']],
        ['CORE', 2, undefined, ['m7g.xlarge']],
        ['TASK', 0, 4, ['m7g.xlarge', 'r7g.xlarge']],
      ],
    );
    // Spot that cannot be had in time switches to On-Demand instead of stalling the run
    expect(fleets[2]!.LaunchSpecifications?.SpotSpecification).toMatchObject({ TimeoutAction: 'SWITCH_TO_ON_DEMAND' });
    expect(Object.fromEntries(input.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      team: 'data',
      'for-use-with-amazon-emr-managed-policies': 'true',
      'landfall:stack': 'landfall-dev',
      'landfall:cell': 'cell-b',
      'landfall:claim': '7',
    });
  });

  it('leaves the task fleet out when its capacity is 0, and the stack tags win over user tags of the same key', () => {
    const input = runJobFlowInput({ ...spec, task: { instanceTypes: ['m7g.xlarge'], capacity: 0 }, tags: { 'landfall:stack': 'spoof' } }, cells[0]!, 1);
    expect(input.Instances!.InstanceFleets!.map((f) => f.InstanceFleetType)).toEqual(['MASTER', 'CORE']);
    expect(input.Tags!.find((t) => t.Key === 'landfall:stack')?.Value).toBe('landfall-dev');
  });
});
