// Package resources lists the API resources kforge's apiserver serves, with their names as
// discovery shows them and the rules (strategies) that differ between them.
package resources
