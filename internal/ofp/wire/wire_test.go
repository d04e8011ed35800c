package wire

import "testing"

// TestLifecycle walks every pair of statuses against spec §5.2 written out as a list of arrows.
func TestLifecycle(t *testing.T) {
	arrows := map[[2]Status]bool{
		{StatusAwaitingAuthorization, StatusAuthorized}: true,
		{StatusAwaitingAuthorization, StatusFailed}:     true,
		{StatusAwaitingAuthorization, StatusRejected}:   true,
		{StatusAuthorized, StatusSuspended}:             true,
		{StatusAuthorized, StatusExpired}:               true,
		{StatusAuthorized, StatusRevoked}:               true,
		{StatusSuspended, StatusAuthorized}:             true,
		{StatusSuspended, StatusRevoked}:                true,
		{StatusSuspended, StatusExpired}:                true,
	}
	all := []Status{StatusAwaitingAuthorization, StatusAuthorized, StatusRejected, StatusFailed,
		StatusSuspended, StatusExpired, StatusRevoked, "consent_status_unspecified", "Authorized"}
	for _, from := range all {
		for _, to := range all {
			if got := CanTransition(from, to); got != arrows[[2]Status{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
	for _, s := range all {
		want := s == StatusRejected || s == StatusFailed || s == StatusExpired || s == StatusRevoked
		if s.Terminal() != want {
			t.Errorf("%s.Terminal() = %v", s, !want)
		}
	}
	if Status("consent_status_unspecified").Valid() || Status("Authorized").Valid() {
		t.Error("unspecified or capitalised status accepted")
	}
}

// TestHashIDNumber pins design.md §3.11 with values computed outside Go
// (printf %s 901231145678 | sha256sum | xxd -r -p | base64).
func TestHashIDNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"901231145678", "ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E="},
		{"901231-14-5678", "ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E="},
		{" 9012 3114 5678 ", "ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E="},
		{"a1234567", "NYEAwhDfBh2x+aeolF+jFA4Wnd9n9wBcV8AHZHdT4QA="},
		{"A1234567", "NYEAwhDfBh2x+aeolF+jFA4Wnd9n9wBcV8AHZHdT4QA="},
	} {
		if got := HashIDNumber(tc.in); got != tc.want {
			t.Errorf("HashIDNumber(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if !IsIDHash(tc.want) {
			t.Errorf("IsIDHash(%s) = false", tc.want)
		}
	}
	for _, bad := range []string{"", "ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E", "ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E-",
		"dj0pCOlwtPK5Du5zDGOgi4CBoRjxuhNvZr6t7AfBkj==", "ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E=="} {
		if IsIDHash(bad) {
			t.Errorf("IsIDHash(%q) = true", bad)
		}
	}
}
