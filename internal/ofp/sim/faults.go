package sim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// ErrBadFault is returned for a fault that is not "status:NNN" (400–599) or "timeout".
var ErrBadFault = errors.New("sim: fault must be \"status:NNN\" (400-599) or \"timeout\"")

// maxFaultCount bounds Fault.Count.
const maxFaultCount = 1000

// faults holds the fault injected into the next PATCH requests (POST /sim/faults).
type faults struct {
	mu     sync.Mutex
	kind   string // "" | "status" | FaultTimeout
	status int
	left   int
	spec   string
}

// parseFault validates a Fault and returns its kind and status.
func parseFault(f Fault) (kind string, status int, err error) {
	if f.Count < 0 || f.Count > maxFaultCount {
		return "", 0, fmt.Errorf("%w: count must be 0..%d", ErrBadFault, maxFaultCount)
	}
	if f.Count == 0 {
		return "", 0, nil
	}
	if f.Patch == FaultTimeout {
		return FaultTimeout, 0, nil
	}
	code, ok := strings.CutPrefix(f.Patch, "status:")
	if !ok {
		return "", 0, ErrBadFault
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 400 || n > 599 {
		return "", 0, ErrBadFault
	}
	return "status", n, nil
}

// set replaces the current fault; Count 0 clears it.
func (fs *faults) set(f Fault) error {
	kind, status, err := parseFault(f)
	if err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.kind, fs.status, fs.left, fs.spec = kind, status, f.Count, f.Patch
	if kind == "" {
		fs.left, fs.spec = 0, ""
	}
	return nil
}

// get returns the pending fault.
func (fs *faults) get() Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return Fault{Patch: fs.spec, Count: fs.left}
}

// take consumes one pending fault; ok is false when none is pending.
func (fs *faults) take() (kind string, status int, ok bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.left == 0 {
		return "", 0, false
	}
	fs.left--
	kind, status = fs.kind, fs.status
	if fs.left == 0 {
		fs.kind, fs.spec = "", ""
	}
	return kind, status, true
}

// faultCode is the error code answered with an injected status.
func faultCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "temporarily_unavailable"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request"
	}
}

func (s *Sim) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.faults.get())
}

func (s *Sim) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decodeAPIBody(w, r, &f) {
		return
	}
	if err := s.faults.set(f); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.faults.get())
}
