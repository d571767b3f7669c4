#!/bin/sh
# Entrypoint of the DAIVI Lakehouse Explorer image. ECS passes secrets as environment variables, the app
# reads a secrets.toml: DAIVI_SECRETS_TOML (the stack's Secrets Manager secret) becomes that file, readable
# by this user alone, and leaves the environment before the app starts.
set -eu
if [ -n "${DAIVI_SECRETS_TOML:-}" ]; then
  umask 077
  mkdir -p "$HOME/.streamlit"
  # ~/.streamlit/secrets.toml is also where Streamlit looks, so an [auth] section reaches st.login.
  printf '%s\n' "$DAIVI_SECRETS_TOML" > "$HOME/.streamlit/secrets.toml"
  export DAIVI_SECRETS_FILE="$HOME/.streamlit/secrets.toml"
  unset DAIVI_SECRETS_TOML
fi
exec "$@"
