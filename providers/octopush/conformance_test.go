package octopush_test

import (
	"fmt"
	"testing"

	"contactsync/providers/providertest"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Subject{
		Name:      "octopush",
		List:      "customers",
		OtherList: "prospects",
		Region:    "FR",
		Number: func(i int) string {
			return fmt.Sprintf("06 %02d %02d %02d %02d", 10+i/1000000%90, i/10000%100, i/100%100, i%100)
		},
		Fields: []string{"first_name", "last_name"},
	})
}
