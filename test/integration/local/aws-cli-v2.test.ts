/** Debian's AWS CLI v2 (/usr/bin/aws) against the local cloud: the suite in aws-cli.ts. */
import { awsCliSuite, CLIS } from './aws-cli';

awsCliSuite(CLIS.v2);
