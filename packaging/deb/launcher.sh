#!/bin/sh
# /usr/bin/mft-retention: runs the program with the Node.js runtime the package ships, so that
# the host needs no Node.js of its own (and one installed for something else is never used).
exec /usr/lib/mft-retention/node/bin/node /usr/lib/mft-retention/bin/mft-retention.js "$@"
