import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Who may create a cell's cluster: one item per cell in the job-runs table, whose generation goes
 * up by one, with a conditional write, each time a cluster is to be created. Of concurrent runs
 * finding no cluster up, exactly one wins the write and calls RunJobFlow; the others wait and find
 * its cluster.
 */
export interface CellClaim {
  cell: string;
  generation: number;
  /** CREATING until RunJobFlow answered; ACTIVE with its cluster; FAILED when RunJobFlow refused */
  status: 'CREATING' | 'ACTIVE' | 'FAILED';
  /** the execution that claimed it */
  owner: string;
  claimedAt: string;
  clusterId?: string;
  reason?: string;
}

const key = (cell: string) => ({ pk: `EMR_CELL#${cell}`, sk: 'CLUSTER' });

export class CellClaims {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(cell: string): Promise<CellClaim | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(cell), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...claim } = out.Item;
    return claim as CellClaim;
  }

  /** Takes generation `seen + 1` if nobody took it since `seen` was read; false when another run did. */
  async claimNext(cell: string, seen: number, owner: string, now: Date): Promise<CellClaim | undefined> {
    const claim: CellClaim = { cell, generation: seen + 1, status: 'CREATING', owner, claimedAt: now.toISOString() };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key(cell), ...claim },
          ConditionExpression: seen === 0 ? 'attribute_not_exists(pk)' : 'generation = :seen',
          ...(seen === 0 ? {} : { ExpressionAttributeValues: { ':seen': seen } }),
        }),
      );
      return claim;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw err;
    }
  }

  /** Records the outcome of the generation's RunJobFlow; a newer generation is left alone. */
  async settle(cell: string, generation: number, outcome: { clusterId: string } | { reason: string }): Promise<void> {
    const active = 'clusterId' in outcome;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(cell),
          UpdateExpression: active ? 'SET #status = :s, clusterId = :v' : 'SET #status = :s, reason = :v',
          ConditionExpression: 'generation = :g',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':s': active ? 'ACTIVE' : 'FAILED', ':v': active ? outcome.clusterId : outcome.reason.slice(0, 1000), ':g': generation },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') return;
      throw err;
    }
  }
}
