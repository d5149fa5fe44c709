// Package gencsv writes large deterministic contact files for benchmarks:
// French spreadsheet exports with the shapes real files have (several
// spellings of numbers, a few duplicates, a few invalid numbers).
package gencsv

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

var (
	firstNames = []string{"Jean", "Marie", "Émile", "Léa", "Hugo", "Chloé", "Lucas", "Inès", "Paul", "Camille", "Zoé", "Noé", "Manon", "Louis", "Jade"}
	lastNames  = []string{"Dupont", "Curie", "Zola", "Martin", "Bernard", "Petit", "Robert", "Richard", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel"}
)

// Write writes a header and rows data rows. The same seed gives the same
// file. About 1% of rows repeat an earlier number in another spelling and
// 0.5% hold a number that is not valid.
func Write(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	fmt.Fprintln(bw, "Prénom,Nom,Téléphone portable,E-mail,Date de naissance,Civilité")
	for i := range rows {
		n := i
		if i > 100 && rng.IntN(100) == 0 {
			n = rng.IntN(i) // a duplicate
		}
		// A bijection of 0..10^8-1 spreads numbers over the range.
		sub := (uint64(n)*48271 + 12345) % 100000000
		prefix := "6"
		if n%3 == 0 {
			prefix = "7"
		}
		digits := fmt.Sprintf("%s%08d", prefix, sub)
		switch {
		case prefix == "7" && digits[1] < '3':
			digits = "73" + digits[2:] // 070–072 are not mobiles
		case prefix == "6" && (digits[1] == '9' || digits[1:3] == "39"):
			digits = "61" + digits[2:] // 0639 and 069 are overseas numbers
		}
		var phone string
		switch {
		case rng.IntN(200) == 0:
			phone = "0" + digits[:5] // too short
		case n%4 == 0:
			phone = fmt.Sprintf("0%s %s %s %s %s", digits[:1], digits[1:3], digits[3:5], digits[5:7], digits[7:])
		case n%4 == 1:
			phone = "+33 " + digits[:1] + " " + digits[1:]
		case n%4 == 2:
			phone = "0" + digits
		default:
			phone = fmt.Sprintf("0%s.%s.%s.%s.%s", digits[:1], digits[1:3], digits[3:5], digits[5:7], digits[7:])
		}
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		civ := "M"
		if rng.IntN(2) == 0 {
			civ = "Mme"
		}
		fmt.Fprintf(bw, "%s,%s,%s,%s.%s%d@example.fr,%02d/%02d/%d,%s\n", first, last, phone,
			first, last, i, 1+rng.IntN(28), 1+rng.IntN(12), 1940+rng.IntN(65), civ)
	}
	return bw.Flush()
}
