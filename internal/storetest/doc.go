// Package storetest gives tests a fresh, empty database of each engine ofpdp supports
// (design.md §5: one store suite runs against both). It is test support only: production code
// never imports it.
package storetest
