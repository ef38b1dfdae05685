{{/*
telemetry-sidecar.container renders the sidecar container as one list item, the
same container the injection webhook adds (src/inject/sidecar-container.ts; a
test renders both and requires them equal). Argument: a dict with key "sidecar"
shaped like the telemetry-sidecar chart's values.sidecar (image.repository and
image.tag required; every other key has the webhook's default). In native mode
(the default) put it under initContainers, else under containers:

  initContainers:
    {{- include "telemetry-sidecar.container" (dict "sidecar" .Values.telemetrySidecar) | nindent 4 }}
  volumes:
    {{- include "telemetry-sidecar.volumes" (dict "sidecar" .Values.telemetrySidecar) | nindent 4 }}

This is a library chart: depend on it without a condition, so the templates stay
available whatever you decide about the webhook chart.
*/}}
{{- define "telemetry-sidecar.container" -}}
{{- $s := .sidecar | default (dict) -}}
{{- $img := $s.image | default (dict) -}}
{{- $res := $s.resources | default (dict) -}}
{{- $req := $res.requests | default (dict) -}}
{{- $lim := $res.limits | default (dict) -}}
{{- $http := int ($s.httpPort | default 9464) -}}
{{- $grpc := int ($s.grpcPort | default 50151) -}}
{{- $upstream := $s.upstream | default "file:/data/analytics-stats.ndjson" -}}
{{- $podIp := eq ($s.httpBind | default "pod-ip") "pod-ip" -}}
- name: telemetry-sidecar
  image: {{ printf "%s:%s" (required "sidecar.image.repository is required" $img.repository) (required "sidecar.image.tag is required" $img.tag) | quote }}
  imagePullPolicy: {{ $img.pullPolicy | default "IfNotPresent" }}
  {{- if ne ($s.mode | default "native") "container" }}
  restartPolicy: Always
  {{- end }}
  env:
    - name: SIDECAR_NODE_ID
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    {{- if $podIp }}
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    {{- end }}
    - name: SIDECAR_GRPC_ADDR
      value: {{ printf "127.0.0.1:%d" $grpc | quote }}
    - name: SIDECAR_HTTP_ADDR
      value: {{ ternary (printf "[$(POD_IP)]:%d" $http) (printf "0.0.0.0:%d" $http) $podIp | quote }}
    - name: SIDECAR_UPSTREAM
      value: {{ $upstream | quote }}
    {{- if hasPrefix "file:" $upstream }}
    - name: SIDECAR_FILE_MAX_BYTES
      value: {{ int64 ($s.fileMaxBytes | default 100663296) | toString | quote }}
    - name: SIDECAR_FILE_MAX_FILES
      value: {{ int (hasKey $s "fileMaxFiles" | ternary $s.fileMaxFiles 3) | toString | quote }}
    {{- end }}
    - name: LOG_LEVEL
      value: {{ $s.logLevel | default "info" | quote }}
    - name: SIDECAR_START_FAILURE
      value: idle
    - name: SIDECAR_STARTED_FILE
      value: /data/.telemetry-sidecar-started
    {{- with $s.flushInterval }}
    - name: SIDECAR_FLUSH_INTERVAL
      value: {{ . | quote }}
    {{- end }}
    {{- if $s.grpcTokenSecret }}
    - name: SIDECAR_GRPC_TOKEN_FILE
      value: /var/run/secrets/telemetry-sidecar/token
    {{- end }}
    {{- if $s.metricsTokenSecret }}
    - name: SIDECAR_METRICS_TOKEN_FILE
      value: /var/run/secrets/telemetry-sidecar-metrics/token
    {{- end }}
    {{- if $s.natsCredsSecret }}
    - name: SIDECAR_NATS_CREDS_FILE
      value: /var/run/secrets/telemetry-sidecar-nats/nats.creds
    {{- end }}
    {{- with $s.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: {{ $s.portName | default "sidecar-metrics" }}
      containerPort: {{ $http }}
      protocol: TCP
  resources:
    requests:
      cpu: {{ $req.cpu | default "50m" | quote }}
      memory: {{ $req.memory | default "192Mi" | quote }}
    limits:
      cpu: {{ $lim.cpu | default "1" | quote }}
      memory: {{ $lim.memory | default "256Mi" | quote }}
  # The sidecar writes this file once it serves, gives up, or 20 s after start:
  # a sidecar that cannot start never holds the pod's other containers back.
  startupProbe:
    exec:
      command:
        - test
        - -e
        - /data/.telemetry-sidecar-started
    periodSeconds: 1
    timeoutSeconds: 1
    failureThreshold: 30
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ $http }}
      scheme: HTTP
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  securityContext:
    {{- if $s.securityContext }}
    {{- toYaml $s.securityContext | nindent 4 }}
    {{- else }}
    runAsNonRoot: true
    runAsUser: 1000
    runAsGroup: 1000
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities:
      drop:
        - ALL
    seccompProfile:
      type: RuntimeDefault
    {{- end }}
  volumeMounts:
    - name: telemetry-sidecar-data
      mountPath: /data
    {{- if $s.grpcTokenSecret }}
    - name: telemetry-sidecar-grpc-token
      mountPath: /var/run/secrets/telemetry-sidecar
      readOnly: true
    {{- end }}
    {{- if $s.metricsTokenSecret }}
    - name: telemetry-sidecar-metrics-token
      mountPath: /var/run/secrets/telemetry-sidecar-metrics
      readOnly: true
    {{- end }}
    {{- if $s.natsCredsSecret }}
    - name: telemetry-sidecar-nats-creds
      mountPath: /var/run/secrets/telemetry-sidecar-nats
      readOnly: true
    {{- end }}
{{- end -}}

{{/*
The sidecar's volumes: the data emptyDir, and the token and NATS credentials Secrets when set (optional,
so a missing Secret never keeps the pod from starting). Pairs with telemetry-sidecar.container.
*/}}
{{- define "telemetry-sidecar.volumes" -}}
{{- $s := .sidecar | default (dict) -}}
- name: telemetry-sidecar-data
  emptyDir:
    sizeLimit: {{ $s.dataSizeLimit | default "1Gi" | quote }}
{{- with $s.grpcTokenSecret }}
- name: telemetry-sidecar-grpc-token
  secret:
    secretName: {{ . }}
    items:
      - key: token
        path: token
    optional: true
{{- end }}
{{- with $s.metricsTokenSecret }}
- name: telemetry-sidecar-metrics-token
  secret:
    secretName: {{ . }}
    items:
      - key: token
        path: token
    optional: true
{{- end }}
{{- with $s.natsCredsSecret }}
- name: telemetry-sidecar-nats-creds
  secret:
    secretName: {{ . }}
    items:
      - key: nats.creds
        path: nats.creds
    optional: true
{{- end }}
{{- end -}}

{{/* The former name of telemetry-sidecar.volumes. */}}
{{- define "telemetry-sidecar.dataVolume" -}}
{{- include "telemetry-sidecar.volumes" . -}}
{{- end -}}
