package providers

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"contactsync/internal/suggest"
)

// Registration is how a provider package makes itself known; it calls
// Register from an init function and main imports providers/all.
type Registration struct {
	Name         string
	Capabilities Capabilities
	// New builds a client. It checks that the credentials are present.
	New func(Config) (Provider, error)
	// NewSandbox builds the provider's in-process emulator.
	NewSandbox func(SandboxOptions) Sandbox
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Registration{}
)

// Register adds a provider; registering a name twice is a programming error.
func Register(r Registration) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[r.Name]; dup {
		panic("providers: " + r.Name + " registered twice")
	}
	registry[r.Name] = r
}

// Lookup finds a provider by its --provider name.
func Lookup(name string) (Registration, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	r, ok := registry[strings.ToLower(name)]
	if !ok {
		names := namesLocked()
		if near := suggest.Closest(name, names); near != "" {
			return Registration{}, fmt.Errorf("unknown provider %q: did you mean %s? (the providers: %s)", name, near, strings.Join(names, ", "))
		}
		return Registration{}, fmt.Errorf("unknown provider %q: choose one of %s", name, strings.Join(names, ", "))
	}
	return r, nil
}

// Names lists the registered providers, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// missingCredentials returns an error naming the variables of names that
// have no value in creds, or nil.
func missingCredentials(creds map[string]string, names []string) error {
	var missing []string
	for _, n := range names {
		if creds[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing credentials: set %s in the environment or the config file (or use --sandbox to rehearse without them)", strings.Join(missing, " and "))
}
