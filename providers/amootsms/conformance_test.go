package amootsms_test

import (
	"fmt"
	"testing"

	"contactsync/providers/providertest"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Subject{
		Name:      "amootsms",
		List:      "مشتریان",
		OtherList: "تهران",
		Region:    "IR",
		Number:    func(i int) string { return fmt.Sprintf("0912%07d", i) },
		Fields:    []string{"first_name", "last_name", "email", "birthday"},
	})
}
