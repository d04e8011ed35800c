package conformance

// DataIDs are the rows of the data group, for the sandbox test.
var DataIDs = dataIDs
