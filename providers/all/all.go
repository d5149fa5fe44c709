// Package all registers every provider; main imports it for its side effect.
package all

import (
	_ "contactsync/providers/amootsms" // register amootsms
	_ "contactsync/providers/avosms"   // register avosms
	_ "contactsync/providers/octopush" // register octopush
	_ "contactsync/providers/smstools" // register smstools
)
