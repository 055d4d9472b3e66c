// Package audit writes kube-apiserver-compatible audit logs: one JSON object per line, each an
// audit.k8s.io/v1 Event, chosen by an audit.k8s.io/v1 Policy file, so the tools operators point
// at kube-apiserver's --audit-log-path (log shippers, SIEM parsers, audit2rbac, ...) read
// kforge's log unchanged.
//
// The apiserver wires it up in three places:
//
//   - Logger.Middleware wraps the whole handler chain, outside authentication, so that
//     requests rejected with 401 are logged too.
//   - Authentication calls SetUser (or SetAttributes) once it knows who is asking; the audit
//     policy is evaluated then, as kube-apiserver does, against the authenticated (not the
//     impersonated) user. Impersonation calls SetImpersonatedUser.
//   - Authorization calls AnnotateAuthorization (or AddAnnotation) with its decision.
//
// Limit: kforge records at most the Metadata level. It never logs request or response bodies.
// A policy rule asking for Request or RequestResponse is honoured at Metadata level and the
// event carries the annotation "kforge.dev/audit-level-reduced" naming the level asked for, so
// a reader can tell the policy wanted more than it got.
package audit
