#!/usr/bin/env bash
# `make deploy-web [STACK=bazaar]`: upload the storefront (web/) to a deployed stack's WebBucket,
# with the page's config.json built from the stack's outputs (the API's URL, the Cognito hosted UI
# and the storefront's app client), then invalidate CloudFront's copy. Needs the AWS CLI and
# credentials; run it after `make deploy`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STACK="${1:-bazaar}"
output() {
  aws cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
BUCKET=$(output WebBucketName)
DISTRIBUTION=$(output WebDistributionId)
CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT
printf '{"auth":"cognito","api_base":"%s","cognito_domain":"%s","client_id":"%s"}\n' \
  "$(output ApiUrl)" "$(output WebCognitoDomain)" "$(output WebUserPoolClientId)" > "$CONFIG"
aws s3 sync "$ROOT/web/" "s3://$BUCKET/" --delete --exclude config.json --cache-control no-cache
aws s3 cp "$CONFIG" "s3://$BUCKET/config.json" --content-type application/json --cache-control no-cache
aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths '/*' > /dev/null
echo "storefront: $(output WebUrl)"
