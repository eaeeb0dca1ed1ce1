import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setting } from '../settings';

/*
 * One client of each kind per process (Lambda reuses them across invocations). Endpoints come from
 * the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables (S3, DYNAMODB, SFN, SNS, LAMBDA, SQS, GLUE), so the same code
 * talks to AWS or to the local stack; S3-compatible servers need path-style addressing.
 */
let s3: S3Client | undefined;
let dynamodb: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;
let sfn: SFNClient | undefined;
let sns: SNSClient | undefined;
let lambda: LambdaClient | undefined;
let sqs: SQSClient | undefined;
let glue: GlueClient | undefined;

export function s3Client(): S3Client {
  s3 ??= new S3Client({ forcePathStyle: setting('LANDFALL_S3_PATH_STYLE') });
  return s3;
}

export function dynamoDbClient(): DynamoDBClient {
  dynamodb ??= new DynamoDBClient({});
  return dynamodb;
}

export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoDbClient(), { marshallOptions: { removeUndefinedValues: true } });
  return documents;
}

export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({});
  return sfn;
}

export function snsClient(): SNSClient {
  sns ??= new SNSClient({});
  return sns;
}

export function lambdaClient(): LambdaClient {
  lambda ??= new LambdaClient({});
  return lambda;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

export function glueClient(): GlueClient {
  glue ??= new GlueClient({});
  return glue;
}
