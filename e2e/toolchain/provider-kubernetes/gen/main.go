// Command gen writes schema-embed.json (the provider schema with its version set, re-marshalled
// through the schema type as the upstream release does) and terraform-mapping-embed.json
// (compacted) into the folder given as the second argument.
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: gen PROVIDER_CMD_DIR OUT_DIR VERSION")
	}
	src, out, version := os.Args[1], os.Args[2], os.Args[3]

	var spec schema.PackageSpec
	mustDecode(filepath.Join(src, "schema.json"), &spec)
	spec.Version = version
	mustWrite(filepath.Join(out, "schema-embed.json"), spec)

	var mapping any
	mustDecode(filepath.Join(src, "terraform-mapping.json"), &mapping)
	mustWrite(filepath.Join(out, "terraform-mapping-embed.json"), mapping)
}

func mustDecode(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func mustWrite(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		log.Fatal(err)
	}
}
