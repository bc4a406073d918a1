#!/bin/sh
# Every VideoShare process in the image starts here: it writes config.conf, which tells the
# process where its keys are (the Secrets Manager secret and its region, as in the original
# deployment), from the task's CONFIG_CONF, then runs the command given.
set -eu
if [ -n "${CONFIG_CONF:-}" ]; then
    printf '%s\n' "$CONFIG_CONF" > config.conf
fi
exec "$@"
