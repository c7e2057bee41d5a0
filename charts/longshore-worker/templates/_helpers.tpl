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
What a JSON schema cannot say: checks across values. Each names the value and what it would
break; templates include this so that `helm template` and `helm install` both stop here.
*/}}
{{- define "longshore-worker.validate" -}}
{{- if and .Values.registration.token .Values.registration.existingSecret -}}
{{- fail "registration.token and registration.existingSecret are both set: set one, so it is clear which token the worker registers with" -}}
{{- end -}}
{{- if gt (int .Values.worker.maxPendingPods) (int .Values.worker.maxConcurrentOperations) -}}
{{- fail (printf "worker.maxPendingPods (%d) is more than worker.maxConcurrentOperations (%d), so it would never apply: lower it" (int .Values.worker.maxPendingPods) (int .Values.worker.maxConcurrentOperations)) -}}
{{- end -}}
{{- if lt (int (include "longshore-worker.durationMs" .Values.scriptPods.pendingTimeout)) 1000 -}}
{{- fail (printf "scriptPods.pendingTimeout (%s) must be at least 1s: a shorter timeout fails every script pod before it can be scheduled" .Values.scriptPods.pendingTimeout) -}}
{{- end -}}
{{- if lt (int (include "longshore-worker.drainDeadlineMs" .)) 1000 -}}
{{- fail (printf "worker.drainDeadline (%s) must be at least 1s: running operations need time to report their end before the worker stops" .Values.worker.drainDeadline) -}}
{{- end -}}
{{- end -}}
