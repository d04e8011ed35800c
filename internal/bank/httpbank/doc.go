// Package httpbank is the http connector (design.md §6): the connector contract of package
// connector spoken over HTTPS and JSON as docs/connector-openapi.yaml defines it. Client is the
// connector ofpdp uses with bank.connector: http — a pool of kept-alive connections, TLS and
// optional mutual TLS to the bank's adapter, every answer size-capped and strictly decoded; an
// answer outside the contract becomes connector.ErrUnavailable (503
// Consent.TransientAccountAccessFailure, design §4) with its cause logged and never a partial
// answer. Handler serves any connector.Connector as that contract: the sandbox's mock core bank.
package httpbank
