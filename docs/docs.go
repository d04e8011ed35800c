// Package docs carries the documents that ofpdp's code reads at run time: the core-bank connector
// contract, docs/connector-openapi.yaml (design.md §6), which connector-test and the drift test of
// the http connector validate against.
package docs

import _ "embed"

// ConnectorOpenAPI is docs/connector-openapi.yaml, the OpenAPI 3.1 document of the connector contract.
//
//go:embed connector-openapi.yaml
var ConnectorOpenAPI []byte
