package apiserver

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// column is one column of `kubectl get` output: its definition and how to fill a cell.
type column struct {
	def  metav1.TableColumnDefinition
	cell func(obj runtime.Object) any
}

func col(name, typ string, priority int32, desc string, cell func(obj runtime.Object) any) column {
	return column{def: metav1.TableColumnDefinition{Name: name, Type: typ, Priority: priority, Description: desc}, cell: cell}
}

func nameColumn() column {
	c := col("Name", "string", 0, "Name must be unique within a namespace.", func(obj runtime.Object) any {
		m, _ := meta.Accessor(obj)
		return m.GetName()
	})
	c.def.Format = "name"
	return c
}

func ageColumn() column {
	return col("Age", "string", 0, "CreationTimestamp is the time the object was created.", func(obj runtime.Object) any {
		m, _ := meta.Accessor(obj)
		return age(m.GetCreationTimestamp())
	})
}

func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// columnsFor returns the columns kube-apiserver prints for the resource; others get Name, Age.
func columnsFor(plural string) []column {
	switch plural {
	case "pods":
		return []column{nameColumn(),
			col("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic.", func(o runtime.Object) any {
				p := o.(*corev1.Pod)
				ready := 0
				for _, cs := range p.Status.ContainerStatuses {
					if cs.Ready {
						ready++
					}
				}
				return fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
			}),
			col("Status", "string", 0, "The aggregate status of the containers in this pod.", func(o runtime.Object) any { return podStatus(o.(*corev1.Pod)) }),
			col("Restarts", "string", 0, "The number of times the containers in this pod have been restarted.", func(o runtime.Object) any {
				n := int32(0)
				for _, cs := range o.(*corev1.Pod).Status.ContainerStatuses {
					n += cs.RestartCount
				}
				return fmt.Sprint(n)
			}),
			ageColumn(),
			col("IP", "string", 1, "IP address allocated to the pod.", func(o runtime.Object) any { return none(o.(*corev1.Pod).Status.PodIP) }),
			col("Node", "string", 1, "Name of the Node this pod is scheduled to.", func(o runtime.Object) any { return none(o.(*corev1.Pod).Spec.NodeName) }),
		}
	case "deployments":
		return []column{nameColumn(),
			col("Ready", "string", 0, "Number of the pod with ready state", func(o runtime.Object) any {
				d := o.(*appsv1.Deployment)
				return fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas))
			}),
			col("Up-to-date", "integer", 0, "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", func(o runtime.Object) any { return int64(o.(*appsv1.Deployment).Status.UpdatedReplicas) }),
			col("Available", "integer", 0, "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", func(o runtime.Object) any { return int64(o.(*appsv1.Deployment).Status.AvailableReplicas) }),
			ageColumn(),
			col("Containers", "string", 1, "Names of each container in the template.", func(o runtime.Object) any {
				return containerNames(o.(*appsv1.Deployment).Spec.Template.Spec.Containers)
			}),
			col("Images", "string", 1, "Images referenced by each container in the template.", func(o runtime.Object) any {
				return containerImages(o.(*appsv1.Deployment).Spec.Template.Spec.Containers)
			}),
			col("Selector", "string", 1, "Label selector for pods.", func(o runtime.Object) any {
				s, err := metav1.LabelSelectorAsSelector(o.(*appsv1.Deployment).Spec.Selector)
				if err != nil {
					return "<invalid>"
				}
				return s.String()
			}),
		}
	case "services":
		return []column{nameColumn(),
			col("Type", "string", 0, "The type of the service.", func(o runtime.Object) any { return string(o.(*corev1.Service).Spec.Type) }),
			col("Cluster-IP", "string", 0, "The IP address of the service.", func(o runtime.Object) any { return none(o.(*corev1.Service).Spec.ClusterIP) }),
			col("External-IP", "string", 0, "The external IP address of the service.", func(o runtime.Object) any {
				s := o.(*corev1.Service)
				if len(s.Spec.ExternalIPs) > 0 {
					return strings.Join(s.Spec.ExternalIPs, ",")
				}
				return "<none>"
			}),
			col("Port(s)", "string", 0, "The ports of the service.", func(o runtime.Object) any { return servicePorts(o.(*corev1.Service)) }),
			ageColumn(),
			col("Selector", "string", 1, "The selector of the service.", func(o runtime.Object) any { return selectorString(o.(*corev1.Service).Spec.Selector) }),
		}
	case "replicasets":
		return []column{nameColumn(),
			col("Desired", "integer", 0, "Number of desired pods.", func(o runtime.Object) any { return int64(replicas(o.(*appsv1.ReplicaSet).Spec.Replicas)) }),
			col("Current", "integer", 0, "Number of actual replicas.", func(o runtime.Object) any { return int64(o.(*appsv1.ReplicaSet).Status.Replicas) }),
			col("Ready", "integer", 0, "Number of ready replicas.", func(o runtime.Object) any { return int64(o.(*appsv1.ReplicaSet).Status.ReadyReplicas) }),
			ageColumn(),
			col("Containers", "string", 1, "Names of each container in the template.", func(o runtime.Object) any {
				return containerNames(o.(*appsv1.ReplicaSet).Spec.Template.Spec.Containers)
			}),
			col("Images", "string", 1, "Images referenced by each container in the template.", func(o runtime.Object) any {
				return containerImages(o.(*appsv1.ReplicaSet).Spec.Template.Spec.Containers)
			}),
			col("Selector", "string", 1, "Label selector for pods.", func(o runtime.Object) any { return labelSelector(o.(*appsv1.ReplicaSet).Spec.Selector) }),
		}
	case "daemonsets":
		return []column{nameColumn(),
			col("Desired", "integer", 0, "Number of nodes that should run the daemon pod.", func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.DesiredNumberScheduled) }),
			col("Current", "integer", 0, "Number of nodes running at least one daemon pod.", func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.CurrentNumberScheduled) }),
			col("Ready", "integer", 0, "Number of nodes whose daemon pod is ready.", func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.NumberReady) }),
			col("Up-to-date", "integer", 0, "Number of nodes running the updated daemon pod.", func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.UpdatedNumberScheduled) }),
			col("Available", "integer", 0, "Number of nodes whose daemon pod is available.", func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.NumberAvailable) }),
			col("Node Selector", "string", 0, "The node selector of the daemon pods.", func(o runtime.Object) any {
				return selectorString(o.(*appsv1.DaemonSet).Spec.Template.Spec.NodeSelector)
			}),
			ageColumn(),
		}
	case "statefulsets":
		return []column{nameColumn(),
			col("Ready", "string", 0, "Number of the pod with ready state.", func(o runtime.Object) any {
				s := o.(*appsv1.StatefulSet)
				return fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, replicas(s.Spec.Replicas))
			}), ageColumn()}
	case "jobs":
		return []column{nameColumn(),
			col("Status", "string", 0, "Status of the job.", func(o runtime.Object) any { return jobStatus(o.(*batchv1.Job)) }),
			col("Completions", "string", 0, "The completed and desired completions.", func(o runtime.Object) any {
				j := o.(*batchv1.Job)
				return fmt.Sprintf("%d/%d", j.Status.Succeeded, replicas(j.Spec.Completions))
			}),
			col("Duration", "string", 0, "Time required to complete the job.", func(o runtime.Object) any {
				j := o.(*batchv1.Job)
				switch {
				case j.Status.StartTime == nil:
					return ""
				case j.Status.CompletionTime == nil:
					return duration.HumanDuration(time.Since(j.Status.StartTime.Time))
				}
				return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
			}),
			ageColumn()}
	case "serviceaccounts":
		return []column{nameColumn(),
			col("Secrets", "integer", 0, "Number of secrets of the service account.", func(o runtime.Object) any { return int64(len(o.(*corev1.ServiceAccount).Secrets)) }),
			ageColumn()}
	case "events":
		return []column{
			col("Last Seen", "string", 0, "Time since the event was last seen.", func(o runtime.Object) any { return eventLastSeen(o.(*corev1.Event)) }),
			col("Type", "string", 0, "Type of the event (Normal or Warning).", func(o runtime.Object) any { return o.(*corev1.Event).Type }),
			col("Reason", "string", 0, "Why the event happened.", func(o runtime.Object) any { return o.(*corev1.Event).Reason }),
			col("Object", "string", 0, "The object the event is about.", func(o runtime.Object) any {
				io := o.(*corev1.Event).InvolvedObject
				return strings.ToLower(io.Kind) + "/" + io.Name
			}),
			col("Message", "string", 0, "A human-readable description of the event.", func(o runtime.Object) any { return strings.TrimSpace(o.(*corev1.Event).Message) }),
		}
	case "endpointslices":
		return []column{nameColumn(),
			col("AddressType", "string", 0, "Type of the addresses.", func(o runtime.Object) any { return string(o.(*discoveryv1.EndpointSlice).AddressType) }),
			col("Ports", "string", 0, "The ports of the slice.", func(o runtime.Object) any {
				var ps []string
				for _, p := range o.(*discoveryv1.EndpointSlice).Ports {
					if p.Port != nil {
						ps = append(ps, fmt.Sprint(*p.Port))
					}
				}
				return none(strings.Join(ps, ","))
			}),
			col("Endpoints", "string", 0, "The addresses of the slice.", func(o runtime.Object) any {
				var as []string
				for _, e := range o.(*discoveryv1.EndpointSlice).Endpoints {
					as = append(as, e.Addresses...)
				}
				return none(strings.Join(as, ","))
			}),
			ageColumn()}
	case "leases":
		return []column{nameColumn(),
			col("Holder", "string", 0, "The holder of the lease.", func(o runtime.Object) any {
				if h := o.(*coordinationv1.Lease).Spec.HolderIdentity; h != nil {
					return *h
				}
				return ""
			}), ageColumn()}
	case "certificatesigningrequests":
		return []column{nameColumn(), ageColumn(),
			col("SignerName", "string", 0, "The signer of the request.", func(o runtime.Object) any { return o.(*certificatesv1.CertificateSigningRequest).Spec.SignerName }),
			col("Requestor", "string", 0, "The user who made the request.", func(o runtime.Object) any { return o.(*certificatesv1.CertificateSigningRequest).Spec.Username }),
			col("Condition", "string", 0, "The state of the request.", func(o runtime.Object) any { return csrCondition(o.(*certificatesv1.CertificateSigningRequest)) }),
		}
	case "poddisruptionbudgets":
		return []column{nameColumn(),
			col("Min Available", "string", 0, "The minimum number of pods that must be available.", func(o runtime.Object) any {
				if v := o.(*policyv1.PodDisruptionBudget).Spec.MinAvailable; v != nil {
					return v.String()
				}
				return "N/A"
			}),
			col("Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable.", func(o runtime.Object) any {
				if v := o.(*policyv1.PodDisruptionBudget).Spec.MaxUnavailable; v != nil {
					return v.String()
				}
				return "N/A"
			}),
			col("Allowed Disruptions", "integer", 0, "How many pods may be disrupted now.", func(o runtime.Object) any { return int64(o.(*policyv1.PodDisruptionBudget).Status.DisruptionsAllowed) }),
			ageColumn()}
	case "rolebindings", "clusterrolebindings":
		return []column{nameColumn(),
			col("Role", "string", 0, "The role the binding grants.", func(o runtime.Object) any {
				if rb, ok := o.(*rbacv1.RoleBinding); ok {
					return rb.RoleRef.Kind + "/" + rb.RoleRef.Name
				}
				rr := o.(*rbacv1.ClusterRoleBinding).RoleRef
				return rr.Kind + "/" + rr.Name
			}), ageColumn()}
	case "roles", "clusterroles", "limitranges":
		return []column{nameColumn(), col("Created At", "date", 0, "When the object was created.", func(o runtime.Object) any {
			m, _ := meta.Accessor(o)
			return m.GetCreationTimestamp().UTC().Format(time.RFC3339)
		})}
	case "endpoints":
		return []column{nameColumn(),
			col("Endpoints", "string", 0, "Endpoints of the service.", func(o runtime.Object) any {
				var eps []string
				for _, sub := range o.(*corev1.Endpoints).Subsets {
					for _, a := range sub.Addresses {
						for _, p := range sub.Ports {
							eps = append(eps, fmt.Sprintf("%s:%d", a.IP, p.Port))
						}
					}
				}
				if len(eps) == 0 {
					return "<none>"
				}
				return strings.Join(eps, ",")
			}), ageColumn()}
	case "configmaps":
		return []column{nameColumn(),
			col("Data", "integer", 0, "Number of keys in the config map.", func(o runtime.Object) any {
				c := o.(*corev1.ConfigMap)
				return int64(len(c.Data) + len(c.BinaryData))
			}), ageColumn()}
	case "secrets":
		return []column{nameColumn(),
			col("Type", "string", 0, "The type of the secret.", func(o runtime.Object) any { return string(o.(*corev1.Secret).Type) }),
			col("Data", "integer", 0, "Number of keys in the secret.", func(o runtime.Object) any { return int64(len(o.(*corev1.Secret).Data)) }),
			ageColumn()}
	case "namespaces":
		return []column{nameColumn(),
			col("Status", "string", 0, "The status of the namespace.", func(o runtime.Object) any { return string(o.(*corev1.Namespace).Status.Phase) }),
			ageColumn()}
	case "nodes":
		return []column{nameColumn(),
			col("Status", "string", 0, "The status of the node.", func(o runtime.Object) any { return nodeStatus(o.(*corev1.Node)) }),
			col("Roles", "string", 0, "The roles of the node.", func(o runtime.Object) any { return nodeRoles(o.(*corev1.Node)) }),
			ageColumn(),
			col("Version", "string", 0, "Kubelet version reported by the node.", func(o runtime.Object) any { return o.(*corev1.Node).Status.NodeInfo.KubeletVersion }),
		}
	}
	return []column{nameColumn(), ageColumn()}
}

func labelSelector(sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "<invalid>"
	}
	return s.String()
}

func jobStatus(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return "Complete"
		case batchv1.JobFailed:
			return "Failed"
		case batchv1.JobSuspended:
			return "Suspended"
		}
	}
	return "Running"
}

func eventLastSeen(e *corev1.Event) string {
	t := e.LastTimestamp
	if t.IsZero() {
		t = metav1.NewTime(e.EventTime.Time)
	}
	if t.IsZero() {
		t = e.CreationTimestamp
	}
	return age(t)
}

func csrCondition(c *certificatesv1.CertificateSigningRequest) string {
	var conds []string
	for _, cond := range c.Status.Conditions {
		conds = append(conds, string(cond.Type))
	}
	if len(conds) == 0 {
		return "Pending"
	}
	if len(c.Status.Certificate) > 0 {
		conds = append(conds, "Issued")
	}
	return strings.Join(conds, ",")
}

func none(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func containerNames(cs []corev1.Container) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return strings.Join(n, ",")
}

func containerImages(cs []corev1.Container) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Image)
	}
	return strings.Join(n, ",")
}

func selectorString(sel map[string]string) string {
	if len(sel) == 0 {
		return "<none>"
	}
	var kv []string
	for k, v := range sel {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func servicePorts(s *corev1.Service) string {
	if len(s.Spec.Ports) == 0 {
		return "<none>"
	}
	var ps []string
	for _, p := range s.Spec.Ports {
		v := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.NodePort != 0 {
			v = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		}
		ps = append(ps, v)
	}
	return strings.Join(ps, ",")
}

func podStatus(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" && p.Status.Phase != corev1.PodSucceeded {
			return t.Reason
		}
	}
	if p.Status.Reason != "" {
		return p.Status.Reason
	}
	return string(p.Status.Phase)
}

func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			status = "NotReady"
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

func nodeRoles(n *corev1.Node) string {
	var roles []string
	for k := range n.Labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	if len(roles) == 0 {
		return "<none>"
	}
	return strings.Join(roles, ",")
}

// table builds the server-side Table kubectl asks for with `Accept: ...;as=Table`.
func (a *API) table(r *http.Request, res *resource, objs []runtime.Object) (*metav1.Table, error) {
	include := metav1.IncludeMetadata
	if v := r.URL.Query().Get("includeObject"); v != "" {
		include = metav1.IncludeObjectPolicy(v)
	}
	switch include {
	case metav1.IncludeNone, metav1.IncludeMetadata, metav1.IncludeObject:
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid includeObject %q: use None, Metadata or Object", include))
	}
	cols := columnsFor(res.def.Plural)
	t := &metav1.Table{}
	for _, c := range cols {
		t.ColumnDefinitions = append(t.ColumnDefinitions, c.def)
	}
	for _, o := range objs {
		row := metav1.TableRow{}
		for _, c := range cols {
			row.Cells = append(row.Cells, c.cell(o))
		}
		switch include {
		case metav1.IncludeObject:
			row.Object.Object = a.typed(o)
		case metav1.IncludeMetadata:
			pom := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"}}
			if acc, ok := o.(metav1.ObjectMetaAccessor); ok {
				if om, ok := acc.GetObjectMeta().(*metav1.ObjectMeta); ok {
					pom.ObjectMeta = *om
				}
			}
			row.Object.Object = pom
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func (a *API) writeTable(w http.ResponseWriter, r *http.Request, res *resource, objs []runtime.Object, rv, cont string) error {
	t, err := a.table(r, res, objs)
	if err != nil {
		return err
	}
	t.ResourceVersion, t.Continue = rv, cont
	t.TypeMeta = metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"}
	a.writeObject(w, r, http.StatusOK, t)
	return nil
}
