{{/* Names, labels and the few decisions several templates share. */}}

{{- define "warroom.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "warroom.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "warroom.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "warroom.selectorLabels" -}}
app.kubernetes.io/name: {{ include "warroom.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "warroom.labels" -}}
helm.sh/chart: {{ include "warroom.chart" . }}
{{ include "warroom.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: warroom
{{- end }}

{{- define "warroom.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "warroom.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "warroom.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}

{{/* The Secret the pods read: the one you manage, or the chart's. */}}
{{- define "warroom.secretName" -}}
{{- default (include "warroom.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* "true" when the pods run an HTTP server on PORT (always in HTTP mode). */}}
{{- define "warroom.httpServer" -}}
{{- if or (not .Values.slack.socketMode) .Values.slack.socketModeHealthServer }}true{{ end }}
{{- end }}

{{/* "true" without any database URL: SQLite in the pod's data directory, a trial setup. */}}
{{- define "warroom.sqlite" -}}
{{- if and (not .Values.existingSecret) (not .Values.secrets.databaseUrl) }}true{{ end }}
{{- end }}

{{/* The policy file: the values' policy with targets.kubernetes taken from `kubernetes`. */}}
{{- define "warroom.policy" -}}
{{- $policy := deepCopy (default (dict) .Values.policy) }}
{{- if .Values.kubernetes.enabled }}
{{- $targets := default (dict) (get $policy "targets") }}
{{- $k8s := default (dict) (get $targets "kubernetes") }}
{{- $_ := set $k8s "namespaces" .Values.kubernetes.namespaces }}
{{- $_ := set $k8s "host" "" }}
{{- $_ := set $targets "kubernetes" $k8s }}
{{- $_ := set $policy "targets" $targets }}
{{- end }}
{{- if .Values.playbooks }}
{{- $_ := set $policy "playbooks_dir" (include "warroom.playbooksPath" .) }}
{{- end }}
{{- toYaml $policy }}
{{- end }}

{{/* Where the playbooks ConfigMap is mounted (beside the policy, not inside its volume). */}}
{{- define "warroom.playbooksPath" -}}/etc/warroom-playbooks{{- end }}

{{/* "true" when the policy lets alert sources in (policy.alerts.sources): POST /hooks/<source>. */}}
{{- define "warroom.alertHooks" -}}
{{- $alerts := default (dict) (get (default (dict) .Values.policy) "alerts") }}
{{- if get $alerts "sources" }}true{{ end }}
{{- end }}

{{/* The environment variables the policy reads secrets from, as a JSON list: alert sources'
     secret_env, paging targets' key_env, and the status page's api_key_env when a page is set. */}}
{{- define "warroom.policySecretEnv" -}}
{{- $policy := default (dict) .Values.policy }}
{{- $names := list }}
{{- range $source, $auth := (default (dict) (get (default (dict) (get $policy "alerts")) "sources")) }}
{{- with (get (default (dict) $auth) "secret_env") }}{{ $names = append $names . }}{{ end }}
{{- end }}
{{- range $target, $t := (default (dict) (get (default (dict) (get $policy "paging")) "targets")) }}
{{- with (get (default (dict) $t) "key_env") }}{{ $names = append $names . }}{{ end }}
{{- end }}
{{- $status := default (dict) (get $policy "status_page") }}
{{- if get $status "page_id" }}
{{- $names = append $names (default "STATUSPAGE_API_KEY" (get $status "api_key_env")) }}
{{- end }}
{{- $names | uniq | sortAlpha | toJson }}
{{- end }}

{{/* The secret environment variables the pods read from the Secret by name, as a JSON list:
     what the policy names plus secrets.extra (the chart's Secret), minus what extraEnv sets. */}}
{{- define "warroom.secretEnv" -}}
{{- $names := include "warroom.policySecretEnv" . | fromJsonArray }}
{{- if not .Values.existingSecret }}
{{- $names = concat $names (keys (default (dict) .Values.secrets.extra)) }}
{{- end }}
{{- $own := list }}
{{- range .Values.extraEnv }}{{ $own = append $own .name }}{{ end }}
{{- $out := list }}
{{- range ($names | uniq | sortAlpha) }}
{{- if not (has . $own) }}{{ $out = append $out . }}{{ end }}
{{- end }}
{{- $out | toJson }}
{{- end }}

{{/* What the bot is allowed to call in a namespace: exactly bot/targets/*.py's calls
     (tests/test_helm.py compares the two). Shared by the Roles and the cluster-wide ClusterRole. */}}
{{- define "warroom.namespacedRules" -}}
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [list]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [list]
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, patch]
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, patch]
- apiGroups: [metrics.k8s.io]
  resources: [pods]
  verbs: [list]
{{- end }}

{{/* The hardened container settings, shared by the bot and the migration Job. */}}
{{- define "warroom.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- end }}

{{- define "warroom.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.dataSizeLimit }}
{{- end }}

{{/* The web console's public paths (bot/console/): its pages, sign-in and static files. */}}
{{- define "warroom.consolePaths" -}}
- {path: /, pathType: Exact}
- {path: /login, pathType: Exact}
- {path: /auth/callback, pathType: Exact}
- {path: /logout, pathType: Exact}
- {path: /signed-out, pathType: Exact}
- {path: /stats, pathType: Exact}
- {path: /incidents, pathType: Prefix}
- {path: /static, pathType: Prefix}
{{- end }}
