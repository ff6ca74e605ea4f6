#!/bin/bash
# all.sh SIDES...: go.sh for each side, logs tarred under $OUT
for side in "$@"; do bash /tmp/stage/go.sh $side; done
cd $OUT && tar -czf logs-$(echo "$@" | tr ' ' '-').tgz --exclude='*.tgz' . 2>/dev/null; ls $OUT
