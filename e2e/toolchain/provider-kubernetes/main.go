// Command pulumi-resource-kubernetes serves the upstream provider with the two files that the
// upstream release generates before building (they are git-ignored upstream, so absent from the
// module zip). e2e/build-toolchain.sh writes them next to a copy of this file in the cache.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
