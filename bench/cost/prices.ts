/**
 * The AWS prices the cost model uses, in one place: us-east-1, on-demand, list prices as published
 * in 2026 (x86_64 Lambda, Step Functions Standard, DynamoDB on-demand, S3 Standard requests,
 * EMR on EC2 m5.xlarge). Change them here; nothing else holds a price.
 */
export const PRICES = {
  region: 'us-east-1',
  lambda: { perGbSecond: 0.0000166667, perMillionRequests: 0.2 },
  dynamodb: { perMillionWriteUnits: 0.625, perMillionReadUnits: 0.125 },
  s3: { perThousandPutCopyPostList: 0.005, perThousandGetHead: 0.0004 },
  stepFunctions: { perThousandTransitions: 0.025 },
  emr: { instanceType: 'm5.xlarge', ec2PerHour: 0.192, emrPerHour: 0.048, instancesPerCluster: 3, clusters: 2 },
} as const;
