"""`make deploy` first: AWS credentials and a region, before the (long) release build.

Runs in .venv-deploy (boto3 comes with the SAM CLI). Exits 1 with what to do when either is missing.
"""

import sys

import boto3
import botocore.exceptions

session = boto3.session.Session()
if session.region_name is None:
    sys.exit(
        "make deploy: no AWS region. Set AWS_DEFAULT_REGION (e.g. AWS_DEFAULT_REGION=us-east-1 make deploy) "
        "or run `aws configure`."
    )
try:
    identity = session.client("sts").get_caller_identity()
except (botocore.exceptions.NoCredentialsError, botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError) as err:
    sys.exit(
        f"make deploy: no usable AWS credentials ({err}). Configure them (`aws configure`, "
        "`aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN) and run it again."
    )
print(f"deploying as {identity['Arn']} to {session.region_name}")
