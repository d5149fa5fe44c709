package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Credentials gathers a provider's credential variables for a run: the
// environment wins; missing ones come from the config file, one section per
// provider:
//
//	octopush:
//	  OCTOPUSH_API_LOGIN: me@example.com
//	  OCTOPUSH_API_KEY: "..."
//
// configPath is --config; "" means the default file, which may be absent.
// A config file others can read is refused: it holds secrets.
func Credentials(provider string, names []string, configPath string, getenv func(string) string) (map[string]string, error) {
	creds := map[string]string{}
	complete := true
	for _, n := range names {
		creds[n] = getenv(n)
		complete = complete && creds[n] != ""
	}
	path, explicit := configPath, configPath != ""
	if !explicit {
		path = DefaultConfigPath(getenv)
	}
	if complete && !explicit {
		return creds, nil
	}
	info, err := os.Stat(path)
	flag := ""
	if explicit {
		flag = " (--config)"
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return creds, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("config file %s (--config) does not exist: check the path, or create it (one section per provider, chmod 600, as the README shows), or leave --config out and set %s in the environment",
			path, strings.Join(names, " and "))
	case err != nil:
		return nil, fmt.Errorf("config file %s%s cannot be read: %v; check its permissions", path, flag, err)
	case info.IsDir():
		return nil, fmt.Errorf("config file %s%s is a directory: name the YAML file (such as %s)", path, flag, filepath.Join(path, "config.yaml"))
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("config file %s holds credentials but others may read it (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file %s%s cannot be read: %v; check its permissions", path, flag, err)
	}
	var sections map[string]map[string]string
	if err := yaml.Unmarshal(data, &sections); err != nil {
		return nil, fmt.Errorf("config file %s: %s; fix it (its values are not shown: they are secrets), one section per provider as the README shows",
			path, configProblem(err))
	}
	for _, n := range names {
		if creds[n] == "" {
			creds[n] = sections[provider][n]
		}
	}
	return creds, nil
}

// yaml's messages start with the line they are about.
var (
	yamlSyntaxLine = regexp.MustCompile(`^yaml: line (\d+):`)
	yamlTypeLine   = regexp.MustCompile(`^line (\d+):`)
)

// configProblem says where a config file is malformed and what kind of
// problem it is, and nothing else: yaml's own messages quote the file (the
// first characters of a value, a whole anchor name), and the file holds
// credentials.
func configProblem(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		problem := "not one section per provider mapping variable names to plain values"
		if len(te.Errors) > 0 {
			if m := yamlTypeLine.FindStringSubmatch(te.Errors[0]); m != nil {
				return "line " + m[1] + ": " + problem
			}
		}
		return problem
	}
	if m := yamlSyntaxLine.FindStringSubmatch(err.Error()); m != nil {
		return "line " + m[1] + ": not valid YAML"
	}
	return "not valid YAML"
}

// DefaultConfigPath is $XDG_CONFIG_HOME/contactsync/config.yaml, or
// ~/.config/contactsync/config.yaml.
func DefaultConfigPath(getenv func(string) string) string {
	return filepath.Join(userDir(getenv, "XDG_CONFIG_HOME", ".config"), "config.yaml")
}

// userDir is contactsync's directory under an XDG base directory.
func userDir(getenv func(string) string, xdg, fallback string) string {
	if dir := getenv(xdg); dir != "" {
		return filepath.Join(dir, "contactsync")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, fallback, "contactsync")
	}
	return filepath.Join(os.TempDir(), "contactsync")
}
