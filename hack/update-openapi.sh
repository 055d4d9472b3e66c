#!/usr/bin/env bash
# Regenerates controlplane/apiserver/openapi/generated from the k8s.io/api types in go.mod with
# kube-openapi's openapi-gen (the version go.mod requires). Run after changing k8s.io/api.
set -euo pipefail
cd "$(dirname "$0")/.."
ko=$(go list -m -f '{{.Version}}' k8s.io/kube-openapi)
apidir=$(go list -m -f '{{.Dir}}' k8s.io/api)
pkgs=(k8s.io/apimachinery/pkg/apis/meta/v1 k8s.io/apimachinery/pkg/runtime k8s.io/apimachinery/pkg/util/intstr
      k8s.io/apimachinery/pkg/api/resource k8s.io/apimachinery/pkg/version)
while read -r d; do pkgs+=("k8s.io/api/${d#./}"); done < <(cd "$apidir" && find . -name types.go -exec dirname {} \; | sort -u)
out=controlplane/apiserver/openapi/generated
go run "k8s.io/kube-openapi/cmd/openapi-gen@${ko}" --output-dir "$out" --output-pkg kforge.dev/kforge/$out \
  --output-file zz_generated.openapi.go --report-filename /dev/null --go-header-file /dev/null "${pkgs[@]}"
sed -i 's/^package out$/package generated/' "$out/zz_generated.openapi.go"
