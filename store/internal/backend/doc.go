// Package backend holds what ratioflow's store backends share and callers
// never see: the normalisation of records and times every backend applies
// on the way in, the List page token, and the loading of embedded schema
// migrations.
package backend
