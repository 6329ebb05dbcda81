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
{{- toYaml $policy }}
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
