package devconnector

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParseSecretsFile reads gateway secrets, one "gateway_id=secret" per line.
// A gateway id may appear on several lines: each line adds one secret, so a
// rotation lists the old and the new secret side by side. Blank lines and
// lines starting with "#" are skipped; whitespace around the line, the id and
// the secret is trimmed. The secret is everything after the first "=".
//
// A line without "=", or with an empty id or secret, is an error naming the
// line number; errors never contain a secret. A file with no secret gives an
// empty map and no error.
func ParseSecretsFile(r io.Reader) (map[string][]string, error) {
	secrets := make(map[string][]string)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)

	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}

		id, secret, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("parse secrets: line %d: want gateway_id=secret", n)
		}

		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		switch {
		case id == "":
			return nil, fmt.Errorf("parse secrets: line %d: empty gateway id", n)
		case secret == "":
			return nil, fmt.Errorf("parse secrets: line %d: empty secret for gateway %q", n, id)
		}

		secrets[id] = append(secrets[id], secret)
	}

	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse secrets: %w", err)
	}

	return secrets, nil
}
