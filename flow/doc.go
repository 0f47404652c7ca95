// Package flow is ratioflow's engine: it runs the flows declared in package
// transitions, one step per request of the end user, and persists every
// flow after every transition so that any process can resume it.
//
// An Engine takes a store.Store (memory, SQLite or PostgreSQL), a ratio.API
// (the Ratio client, or the sandbox behind it) and a seal key. Start creates
// a flow; Step fires one event with its input; Get, Cancel and Resume do
// what they say; Sweep expires flows past their deadline. Each call returns
// a View: the state, the events the user may send next and the fields each
// needs (named as Ratio names them), the challenge to sign, where the codes
// went (masks), when the flow expires. A View never holds a secret.
//
// One step, in order: load the flow and check its subject (another subject
// gets ErrNotFound) and graph version; expire it if due; reconcile a Ratio
// call left pending by a process that died; check that the state permits
// the event and that its input is valid, before anything is sent; check
// guards and back-off; record the call as pending (a compare-and-swap
// write: of two concurrent steps only one proceeds, the other gets
// ErrConcurrentStep); make the call outside any FSM callback; ask a fresh
// looplab/fsm machine, built from the declared table, where the outcome
// leads; write the new state with its audit entry (another compare-and-swap);
// then run the automatic steps that follow (EmailVerified to Linked needs no
// user input).
//
// Session JWTs, phone numbers and emails live in the flow's data, which is
// sealed with AES-GCM before it reaches the store; history entries, logs,
// errors and views never hold a JWT, a one-time code, a signature or a
// seal key. The seal key may be a Keyring (Options.Keys, parsed from
// "id:key" pairs by ParseKeyring): its first key seals, every key opens,
// and Engine.Reseal moves the flows still sealed under an older key to
// the first, so that the older key can be dropped.
package flow
