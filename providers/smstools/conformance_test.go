package smstools_test

import (
	"fmt"
	"testing"

	"contactsync/providers/providertest"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Subject{
		Name:      "smstools",
		List:      "42",
		OtherList: "43",
		Region:    "BE",
		Number: func(i int) string {
			return fmt.Sprintf("0470 %02d %02d %02d", i/10000%100, i/100%100, i%100)
		},
		Fields: []string{"first_name", "last_name", "birthday"},
	})
}
