#!/bin/sh
# azd postprovision hook: store the sealing key in the Key Vault once. The key is 32 random bytes, base64
# (what SECRET_SEALING_KEY expects), generated here and piped straight into Key Vault: it never appears in a
# template, a deployment's history, a command line or this script's output. An existing key is kept, so
# re-running `azd up` does not orphan the secrets sealed with it.
# Without azd: AZURE_KEY_VAULT_NAME=<vault> SEALING_KEY_SECRET_NAME=sealing-key sh infra/hooks/seal-key.sh
set -eu
vault="${AZURE_KEY_VAULT_NAME:?set AZURE_KEY_VAULT_NAME (a deployment output)}"
name="${SEALING_KEY_SECRET_NAME:-sealing-key}"

if az keyvault secret show --vault-name "$vault" --name "$name" --query id --output none 2>/dev/null; then
  echo "sealing key $name already in $vault: kept"
  exit 0
fi
openssl rand -base64 32 | tr -d '\n' |
  az keyvault secret set --vault-name "$vault" --name "$name" --file /dev/stdin --encoding utf-8 --output none
echo "sealing key $name stored in $vault"
