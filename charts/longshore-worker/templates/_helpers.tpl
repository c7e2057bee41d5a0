{{/*
Every object is named after the release (helm keeps release names at 53 characters or fewer, so
each suffix below still fits a 63-character DNS label). The worker is told the credential Secret's
name, so it must be derivable from the release alone.
*/}}
{{- define "longshore-worker.fullname" -}}
{{- .Release.Name -}}
{{- end -}}

{{- define "longshore-worker.scriptsName" -}}
{{- printf "%s-scripts" .Release.Name -}}
{{- end -}}

{{- define "longshore-worker.upgraderName" -}}
{{- printf "%s-upgrader" .Release.Name -}}
{{- end -}}

{{- define "longshore-worker.credentialSecret" -}}
{{- printf "%s-credential" .Release.Name -}}
{{- end -}}

{{- define "longshore-worker.registrationSecret" -}}
{{- .Values.registration.existingSecret | default (printf "%s-registration" .Release.Name) -}}
{{- end -}}

{{- define "longshore-worker.workerName" -}}
{{- .Values.worker.name | default .Release.Name -}}
{{- end -}}

{{- define "longshore-worker.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "longshore-worker.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "longshore-worker.imageTag" .) -}}
{{- end -}}

{{- define "longshore-worker.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The worker's pods only: script pods carry the release's labels from scriptPods.labels at most, never the component. */}}
{{- define "longshore-worker.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{/*
A duration of hours, minutes and seconds ("1h30m", "90s") in milliseconds. values.schema.json
allows only that shape, so each part is a plain number before its unit.
*/}}
{{- define "longshore-worker.durationMs" -}}
{{- $h := regexFind "[0-9]+h" . | trimSuffix "h" | default "0" | atoi -}}
{{- $m := regexFind "[0-9]+m" . | trimSuffix "m" | default "0" | atoi -}}
{{- $s := regexFind "[0-9]+s" . | trimSuffix "s" | default "0" | atoi -}}
{{- add (mul $h 3600000) (mul $m 60000) (mul $s 1000) -}}
{{- end -}}

{{- define "longshore-worker.drainDeadlineMs" -}}
{{- include "longshore-worker.durationMs" .Values.worker.drainDeadline -}}
{{- end -}}

{{/*
The script-pod settings' `worker` (the default script image and its pull policy) from
scriptPods.worker.image in either form values accept: "repository:tag", or {repository, tag,
pullPolicy} as Octopus's chart takes it, so values copied from its docs work. A missing
repository is longshore/worker-tools, a missing tag the worker image's (the chart's appVersion).
*/}}
{{- define "longshore-worker.scriptImage" -}}
{{- $worker := .Values.scriptPods.worker -}}
{{- $image := $worker.image -}}
{{- $settings := dict -}}
{{- if kindIs "map" $image -}}
{{- $_ := set $settings "image" (printf "%s:%s" ($image.repository | default "longshore/worker-tools") ($image.tag | default (include "longshore-worker.imageTag" .))) -}}
{{- with $image.pullPolicy }}{{ $_ := set $settings "imagePullPolicy" . }}{{ end -}}
{{- else -}}
{{- $_ := set $settings "image" ($image | default (printf "longshore/worker-tools:%s" (include "longshore-worker.imageTag" .))) -}}
{{- end -}}
{{- with $worker.imagePullPolicy -}}
{{- if and $settings.imagePullPolicy (ne $settings.imagePullPolicy .) -}}
{{- fail (printf "scriptPods.worker.image.pullPolicy (%s) and scriptPods.worker.imagePullPolicy (%s) differ: set one, so it is clear how script images are pulled" $settings.imagePullPolicy .) -}}
{{- end -}}
{{- $_ := set $settings "imagePullPolicy" . -}}
{{- end -}}
{{- toJson $settings -}}
{{- end -}}

{{/* Secret names from either form values accept: "regcred" or {name: regcred}. */}}
{{- define "longshore-worker.secretNames" -}}
{{- $names := list -}}
{{- range . -}}
{{- if kindIs "string" . -}}
{{- $names = append $names . -}}
{{- else -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
A Kubernetes quantity ("500m", "2", "1.5Gi", "1e3") as a number of its base unit, so that two of
one resource can be ordered: JSON schema cannot compare them. A float64 orders them correctly
(sub-units are divided, not multiplied by an inexact 0.001).
*/}}
{{- define "longshore-worker.quantity" -}}
{{- $q := toString . -}}
{{- $suffix := regexFind "(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)$" $q -}}
{{- $number := trimSuffix $suffix $q | float64 -}}
{{- $fractions := dict "n" 1e9 "u" 1e6 "m" 1e3 -}}
{{- $multiples := dict "" 1.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- if hasKey $fractions $suffix -}}
{{- divf $number (get $fractions $suffix) -}}
{{- else -}}
{{- mulf $number (get $multiples $suffix) -}}
{{- end -}}
{{- end -}}

{{/*
The worker's cross-field checks of script pod resources (resourceProblems in
packages/worker/src/executors/kubernetes/scriptPodsConfig.ts), with alike messages. The worker refuses such
values at start with CONFIG_INVALID; under the Recreate strategy an upgrade would already have
stopped the old worker, so they must stop `helm upgrade` instead. A list left empty is the
worker's default (DEFAULT_RESOURCES there), as the worker fills it in.
*/}}
{{- define "longshore-worker.resourceProblems" -}}
{{- $resources := . | default dict -}}
{{- $workerDefaults := dict "requests" (dict "cpu" "250m" "memory" "256Mi") "limits" (dict "memory" "1Gi") "maxAllowed" (dict "cpu" "4" "memory" "8Gi" "ephemeral-storage" "20Gi") -}}
{{- $lists := dict -}}
{{- range $list := list "requests" "limits" "maxAllowed" -}}
{{- $_ := set $lists $list (get $resources $list | default (get $workerDefaults $list)) -}}
{{- end -}}
{{- $checks := list
  (list "requests" "limits" "Kubernetes rejects a pod whose request exceeds its limit, so no script pod could start")
  (list "requests" "maxAllowed" "the default would break the cap steps are held to, so raise maxAllowed or lower the request")
  (list "limits" "maxAllowed" "the default would break the cap steps are held to, so raise maxAllowed or lower the limit")
-}}
{{- $problems := list -}}
{{- range $name := list "cpu" "memory" "ephemeral-storage" -}}
{{- range $check := $checks -}}
{{- $low := get $lists (index $check 0) -}}
{{- $high := get $lists (index $check 1) -}}
{{- if and (hasKey $low $name) (hasKey $high $name) -}}
{{- $lowValue := index $low $name -}}
{{- $highValue := index $high $name -}}
{{- if gt (include "longshore-worker.quantity" $lowValue | float64) (include "longshore-worker.quantity" $highValue | float64) -}}
{{- $problems = append $problems (printf "scriptPods.resources.%s.%s (%v) is more than scriptPods.resources.%s.%s (%v): %s" (index $check 0) $name $lowValue (index $check 1) $name $highValue (index $check 2)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- join "; " $problems -}}
{{- end -}}

{{/*
What a JSON schema cannot say: checks across values. Each names the value and what it would
break; templates include this so that `helm template` and `helm install` both stop here.
*/}}
{{- define "longshore-worker.validate" -}}
{{- if and .Values.registration.token .Values.registration.existingSecret -}}
{{- fail "registration.token and registration.existingSecret are both set: set one, so it is clear which token the worker registers with" -}}
{{- end -}}
{{- if not (or .Values.registration.token .Values.registration.existingSecret) -}}
{{- /* A reinstall needs no token when the Secret kept by `helm uninstall` holds the credential. `helm template` cannot look it up, so it always asks for a token. */ -}}
{{- $kept := lookup "v1" "Secret" .Release.Namespace (include "longshore-worker.credentialSecret" .) -}}
{{- if not (hasKey ($kept.data | default dict) "credential.json") -}}
{{- fail (printf "registration.token or registration.existingSecret is required: the worker registers with it on its first start, and there is no credential to reuse in the Secret %s of namespace %s (kept by `helm uninstall` of a release of this name)" (include "longshore-worker.credentialSecret" .) .Release.Namespace) -}}
{{- end -}}
{{- end -}}
{{- if gt (int .Values.worker.maxPendingPods) (int .Values.worker.maxConcurrentOperations) -}}
{{- fail (printf "worker.maxPendingPods (%d) is more than worker.maxConcurrentOperations (%d), so it would never apply: lower it" (int .Values.worker.maxPendingPods) (int .Values.worker.maxConcurrentOperations)) -}}
{{- end -}}
{{- if lt (int (include "longshore-worker.durationMs" .Values.scriptPods.pendingTimeout)) 1000 -}}
{{- fail (printf "scriptPods.pendingTimeout (%s) must be at least 1s: a shorter timeout fails every script pod before it can be scheduled" .Values.scriptPods.pendingTimeout) -}}
{{- end -}}
{{- with include "longshore-worker.resourceProblems" .Values.scriptPods.resources -}}
{{- fail . -}}
{{- end -}}
{{- if lt (int (include "longshore-worker.drainDeadlineMs" .)) 1000 -}}
{{- fail (printf "worker.drainDeadline (%s) must be at least 1s: running operations need time to report their end before the worker stops" .Values.worker.drainDeadline) -}}
{{- end -}}
{{- end -}}
