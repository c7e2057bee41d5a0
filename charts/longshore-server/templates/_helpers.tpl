{{/*
Every object is named after the release (helm keeps release names at 53 characters or fewer, so
each suffix below still fits a 63-character DNS label).
*/}}
{{- define "longshore-server.fullname" -}}
{{- .Release.Name -}}
{{- end -}}

{{- define "longshore-server.databaseSecret" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" .Release.Name) -}}
{{- end -}}

{{- define "longshore-server.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretKey }}{{ else }}url{{ end -}}
{{- end -}}

{{- define "longshore-server.masterKeySecret" -}}
{{- .Values.masterKey.existingSecret | default (printf "%s-master-key" .Release.Name) -}}
{{- end -}}

{{- define "longshore-server.masterKeySecretKey" -}}
{{- if .Values.masterKey.existingSecret }}{{ .Values.masterKey.existingSecretKey }}{{ else }}master-key{{ end -}}
{{- end -}}

{{- define "longshore-server.packagesClaim" -}}
{{- .Values.packageStorage.directory.existingClaim | default (printf "%s-packages" .Release.Name) -}}
{{- end -}}

{{- define "longshore-server.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "longshore-server.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "longshore-server.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Secret names from either form values accept: "regcred" or {name: regcred}. */}}
{{- define "longshore-server.secretNames" -}}
{{- $names := list -}}
{{- range . -}}
{{- if kindIs "string" . }}{{ $names = append $names . }}{{ else }}{{ $names = append $names .name }}{{ end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
What a JSON schema cannot say: checks across values, each naming the value and what it would
break. Templates include this so that `helm template` and `helm install` both stop here.
*/}}
{{- define "longshore-server.validate" -}}
{{- if and .Values.database.url .Values.database.existingSecret -}}
{{- fail "database.url and database.existingSecret are both set: set one, so it is clear which database the server nodes use" -}}
{{- end -}}
{{- if not (or .Values.database.url .Values.database.existingSecret) -}}
{{- fail "database.url or database.existingSecret is required: every server node keeps its state in one PostgreSQL database (postgres://user:password@host:5432/database)" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.maxUnavailable) (int .Values.replicaCount)) (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "podDisruptionBudget.maxUnavailable (%d) lets a drain take all %d server nodes at once, and the server would stop: lower it below replicaCount" (int .Values.podDisruptionBudget.maxUnavailable) (int .Values.replicaCount)) -}}
{{- end -}}
{{- range .Values.server.extraEnv -}}
{{- if has .name (list "LONGSHORE_DATABASE_URL" "LONGSHORE_MASTER_KEY" "LONGSHORE_PACKAGE_STORAGE" "LONGSHORE_PACKAGE_DIRECTORY") -}}
{{- fail (printf "server.extraEnv sets %s, which the chart sets from its own values (database, masterKey, packageStorage): set it there" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
