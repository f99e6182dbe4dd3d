#!/bin/sh
# Every MedBook container starts here: make the writable folders under /tmp (an emptyDir or a
# tmpfs on a read-only root filesystem hides the image's), empty the metrics folder (prometheus'
# multiprocess mode wants it empty before the processes start), then run the command.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
fi
mkdir -p "${MEDBOOK_VAR_DIR:-/tmp/medbook}"
exec "$@"
