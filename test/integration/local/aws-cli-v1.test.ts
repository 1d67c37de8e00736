/** The AWS CLI v1 (`aws` on PATH) against the local cloud: the suite in aws-cli.ts. */
import { awsCliSuite, CLIS } from './aws-cli';

awsCliSuite(CLIS.v1);
