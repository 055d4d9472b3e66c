package audit

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Level says how much of a request an audit event records; the names are Kubernetes' so policy
// files written for kube-apiserver mean the same here.
type Level string

// Audit levels, from least to most detailed. kforge writes at most LevelMetadata; see the
// package documentation.
const (
	// LevelNone: the request is not logged.
	LevelNone Level = "None"
	// LevelMetadata: who did what to which object and with what result, without bodies.
	LevelMetadata Level = "Metadata"
	// LevelRequest: Metadata plus the request body (reduced to Metadata by kforge).
	LevelRequest Level = "Request"
	// LevelRequestResponse: Request plus the response body (reduced to Metadata by kforge).
	LevelRequestResponse Level = "RequestResponse"
)

// Stage is the point in a request's life an event describes, with Kubernetes' names so
// omitStages in policy files and stage filters in log readers work unchanged.
type Stage string

// Audit stages.
const (
	// StageRequestReceived: the request has been authenticated, nothing has been answered.
	StageRequestReceived Stage = "RequestReceived"
	// StageResponseStarted: the response headers are sent; only for long-running requests
	// such as watches, whose completion may be hours later.
	StageResponseStarted Stage = "ResponseStarted"
	// StageResponseComplete: the response is finished.
	StageResponseComplete Stage = "ResponseComplete"
	// StagePanic: the handler panicked.
	StagePanic Stage = "Panic"
)

// Annotation keys kforge writes, Kubernetes' own where Kubernetes has one, so log readers that
// look for authorization decisions find them.
const (
	// DecisionAnnotation holds the authorizer's verdict: "allow" or "forbid".
	DecisionAnnotation = "authorization.k8s.io/decision"
	// ReasonAnnotation holds the authorizer's explanation of DecisionAnnotation.
	ReasonAnnotation = "authorization.k8s.io/reason"
	// LevelReducedAnnotation names the level a policy rule asked for when kforge logged the
	// event at Metadata instead, because kforge does not record bodies.
	LevelReducedAnnotation = "kforge.dev/audit-level-reduced"
)

// Event is one line of the audit log, field for field the JSON of Kubernetes'
// audit.k8s.io/v1 Event, so readers of kube-apiserver logs decode it unchanged.
// RequestObject and ResponseObject are absent because kforge does not log bodies.
type Event struct {
	// Kind is always "Event".
	Kind string `json:"kind"`
	// APIVersion is always "audit.k8s.io/v1".
	APIVersion string `json:"apiVersion"`
	// Level is the level the event was recorded at.
	Level Level `json:"level"`
	// AuditID identifies the request; every stage of a request shares it. It is the client's
	// Audit-ID header if it sent one, else a random UUID, and is echoed in the Audit-Id
	// response header.
	AuditID string `json:"auditID"`
	// Stage is the stage of the request this event describes.
	Stage Stage `json:"stage"`
	// RequestURI is the request's path and query, as sent.
	RequestURI string `json:"requestURI"`
	// Verb is the Kubernetes verb (get, list, watch, create, ...) of a resource request, the
	// lower-case HTTP method of any other.
	Verb string `json:"verb"`
	// User is the authenticated user; empty when authentication failed.
	User authenticationv1.UserInfo `json:"user"`
	// ImpersonatedUser is the user the request impersonates, if any.
	ImpersonatedUser *authenticationv1.UserInfo `json:"impersonatedUser,omitempty"`
	// SourceIPs are the client's address and those named by X-Forwarded-For and X-Real-Ip,
	// proxies' first, the connection's peer last, as kube-apiserver lists them.
	SourceIPs []string `json:"sourceIPs,omitempty"`
	// UserAgent is the client's User-Agent, truncated past 1 KiB.
	UserAgent string `json:"userAgent,omitempty"`
	// ObjectRef names the object of a resource request; nil for non-resource requests.
	ObjectRef *ObjectReference `json:"objectRef,omitempty"`
	// ResponseStatus is the response's code and, for failures, the Status the client got.
	// Absent in RequestReceived events.
	ResponseStatus *metav1.Status `json:"responseStatus,omitempty"`
	// RequestReceivedTimestamp is when the request reached the apiserver.
	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
	// StageTimestamp is when the request reached Stage.
	StageTimestamp metav1.MicroTime `json:"stageTimestamp"`
	// Annotations carry facts other components add, such as authorization decisions.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ObjectReference names the object a resource request acts on, as audit.k8s.io/v1 does. UID and
// ResourceVersion come from bodies, which kforge does not log, so they stay empty.
type ObjectReference struct {
	Resource        string `json:"resource,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Subresource     string `json:"subresource,omitempty"`
}
