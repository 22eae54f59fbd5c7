package authn

// What the external tests (package authn_test) need of the package's
// internals.

// MaxNameLen is maxNameLen.
const MaxNameLen = maxNameLen

// SecretChecks is the number of CheckSecret calls so far.
func SecretChecks() int64 { return secretChecks.Load() }

// ClientAccount and UserAccount are the throttle's account keys.
var (
	ClientAccount = clientAccount
	UserAccount   = userAccount
)
