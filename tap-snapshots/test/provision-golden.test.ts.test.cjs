/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > ha: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  + address        natgw-us-central1-ip-1           create
  + address        natgw-us-central1-ip-2           create
  + firewall       natgw-us-central1-clients        create
  + firewall       natgw-us-central1-health         create
  + firewall       natgw-us-central1-allow-metrics  create
  + healthCheck    natgw-us-central1-hc-lb          create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal        create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1    create
  + mig            natgw-us-central1-mig            create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-keqk           create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-varw           create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb            create
  + forwardingRule natgw-us-central1-fr             create
  + route          natgw-us-central1-default        create  (created once a load-balancer backend is healthy)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip-1 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 1 of HA gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip-1 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute addresses create natgw-us-central1-ip-2 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 2 of HA gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip-2 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\''s /healthz and /livez'
  gcloud compute firewall-rules create natgw-us-central1-allow-metrics --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 10.128.0.50/32,192.168.7.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Prometheus may scrape the natgw agent'\\''s /metrics'
  gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz --check-interval 2s --timeout 2s --healthy-threshold 2 --unhealthy-threshold 2 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'
  gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed create natgw-us-central1-mig --project test-project --region us-central1 --zones us-central1-a,us-central1-b,us-central1-c --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1 --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-external-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VMs of HA gateway natgw-us-central1'
  gcloud compute instance-groups managed update natgw-us-central1-mig --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 3 --instance-redistribution-type none
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-keqk --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-1,auto-delete=never
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-varw --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-2,auto-delete=never
  gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer of NAT gateway natgw-us-central1'
  gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig --instance-group-region us-central1 --balancing-mode connection
  gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'
  # once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > ha: destroy 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-default        delete
  - forwardingRule natgw-us-central1-fr             delete
  - backendService natgw-us-central1-ilb            delete
  - mig            natgw-us-central1-mig            delete  (with its VMs natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b)
  - healthCheck    natgw-us-central1-hc-lb          delete
  - healthCheck    natgw-us-central1-hc-heal        delete
  - template       natgw-us-central1-tmpl-T1    delete
  - firewall       natgw-us-central1-clients        delete
  - firewall       natgw-us-central1-health         delete
  - firewall       natgw-us-central1-allow-metrics  delete
  - address        natgw-us-central1-ip-1           delete
  - address        natgw-us-central1-ip-2           delete
Destroyed 12 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > ha: status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1): serving (2/2 backends healthy)
  NAT IPs   203.0.113.1, 203.0.113.2
  mig       natgw-us-central1-mig           2 VMs over us-central1-a, us-central1-b, us-central1-c, template natgw-us-central1-tmpl-T1
  backend   natgw-us-central1-VM@us-central1-a          HEALTHY (RUNNING in us-central1-a, NAT IP 203.0.113.1, agent: ok)
  backend   natgw-us-central1-VM@us-central1-b          HEALTHY (RUNNING in us-central1-b, NAT IP 203.0.113.2, agent: ok)
  check     natgw-us-central1-hc-lb         /healthz every 2s, timeout 2s, unhealthy after 2
  check     natgw-us-central1-hc-heal       /livez every 10s, timeout 5s, unhealthy after 3
  lb        natgw-us-central1-fr            10.10.0.4 TCP all ports → natgw-us-central1-ilb
  firewall  natgw-us-central1-clients       present
  firewall  natgw-us-central1-health        present
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics present
  route     natgw-us-central1-default       0.0.0.0/0 → regions/us-central1/forwardingRules/natgw-us-central1-fr, tags natgw-us-central1-client, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > ha: without the flag, --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1           unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2           unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients        unchanged
  = firewall       natgw-us-central1-health         unchanged
  - firewall       natgw-us-central1-allow-metrics  delete  (no longer wanted)
  = healthCheck    natgw-us-central1-hc-lb          unchanged
  = healthCheck    natgw-us-central1-hc-heal        unchanged
  + template       natgw-us-central1-tmpl-T1    create
  ~ mig            natgw-us-central1-mig            update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-a           replace  (rolling: drained, recreated with the same name and IP, healthy before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-b           replace  (rolling: drained, recreated with the same name and IP, healthy before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  = backendService natgw-us-central1-ilb            unchanged
  = forwardingRule natgw-us-central1-fr             unchanged
  = route          natgw-us-central1-default        unchanged
  - template       natgw-us-central1-tmpl-T2    delete  (superseded; deleted once no VM group uses it)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules delete natgw-us-central1-allow-metrics --project test-project --quiet
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  # one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace
  # one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > single: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  + address  natgw-us-central1-ip             create
  + firewall natgw-us-central1-clients        create
  + firewall natgw-us-central1-health         create
  + firewall natgw-us-central1-allow-metrics  create
  + instance natgw-us-central1                create
  + route    natgw-us-central1-default        create  (created once the agent reports healthy)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\''s /healthz'
  gcloud compute firewall-rules create natgw-us-central1-allow-metrics --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 10.128.0.50/32,192.168.7.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Prometheus may scrape the natgw agent'\\''s /metrics'
  gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt
  # once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > single: destroy 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  - route    natgw-us-central1-default        delete
  - instance natgw-us-central1                delete
  - firewall natgw-us-central1-clients        delete
  - firewall natgw-us-central1-health         delete
  - firewall natgw-us-central1-allow-metrics  delete
  - address  natgw-us-central1-ip             delete
Destroyed 6 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > single: status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1): serving
  address   natgw-us-central1-ip            203.0.113.1 (IN_USE)
  firewall  natgw-us-central1-clients       10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 → all
  firewall  natgw-us-central1-health        35.191.0.0/16,130.211.0.0/22 → tcp:9731
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics 10.128.0.50/32,192.168.7.0/24 → tcp:9731
  instance  natgw-us-central1               RUNNING in us-central1-a, e2-small, internal 10.10.0.2, NAT IP 203.0.113.1, agent 0.1.0
  agent     health                          ok
  route     natgw-us-central1-default       0.0.0.0/0 → zones/us-central1-a/instances/natgw-us-central1, tags natgw-us-central1-client, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > single: without the flag, --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip             unchanged
  = firewall natgw-us-central1-clients        unchanged
  = firewall natgw-us-central1-health         unchanged
  - firewall natgw-us-central1-allow-metrics  delete  (no longer wanted)
  ~ instance natgw-us-central1                update
        metadata.natgw-config: {"sourceRanges":…(136 chars) → {"sourceRanges":…(78 chars)
  = route    natgw-us-central1-default        unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules delete natgw-us-central1-allow-metrics --project test-project --quiet
  gcloud compute instances add-metadata natgw-us-central1 --project test-project --zone us-central1-a --metadata-from-file natgw-config=natgw-config.txt,…
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > stateful: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  + address        natgw-us-central1-nat-ip         create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a         create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b         create  (INTERNAL: nic0 of NAT VM b, sync peer)
  + firewall       natgw-us-central1-clients        create
  + firewall       natgw-us-central1-health         create
  + firewall       natgw-us-central1-allow-metrics  create
  + firewall       natgw-us-central1-sync           create
  + firewall       natgw-us-central1-return         create
  + healthCheck    natgw-us-central1-hc-lb          create  (/healthz/hold/850 every 1s)
  + healthCheck    natgw-us-central1-hc-heal        create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1    create
  + mig            natgw-us-central1-mig-a          create  (zones us-central1-a)
  + vm             natgw-us-central1-kdnb           create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b          create  (zones us-central1-b)
  + vm             natgw-us-central1-2lkt           create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  + backendService natgw-us-central1-ilb            create
  + backendService natgw-us-central1-nlb            create
  + forwardingRule natgw-us-central1-fr             create
  + forwardingRule natgw-us-central1-nat-fr         create
  + route          natgw-us-central1-default        create  (created once a load-balancer backend is healthy)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-nat-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the one NAT IP of stateful gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-nat-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute addresses create natgw-us-central1-sync-a --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM a of stateful gateway natgw-us-central1 (state sync peer)'
  gcloud compute addresses update natgw-us-central1-sync-a --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute addresses create natgw-us-central1-sync-b --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM b of stateful gateway natgw-us-central1 (state sync peer)'
  gcloud compute addresses update natgw-us-central1-sync-b --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22,209.85.152.0/22,209.85.204.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks (internal and external load balancer) may reach the natgw agent'\\''s /healthz and /livez'
  gcloud compute firewall-rules create natgw-us-central1-allow-metrics --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 10.128.0.50/32,192.168.7.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Prometheus may scrape the natgw agent'\\''s /metrics'
  gcloud compute firewall-rules create natgw-us-central1-sync --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules udp:3780,tcp:9731 --source-tags natgw-us-central1 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; connection-state sync (conntrackd) and flow counts between the NAT VMs of gateway natgw-us-central1 only'
  gcloud compute firewall-rules create natgw-us-central1-return --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:1024-9730,tcp:9732-65535,udp:1024-3779,udp:3781-65535,icmp --source-ranges 0.0.0.0/0 --destination-ranges $(gcloud compute addresses describe natgw-us-central1-nat-ip --project test-project --region us-central1 --format='value(address)')/32 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; replies to the shared NAT IP of gateway natgw-us-central1 reach whichever NAT VM holds the flows'
  gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz/hold/850 --check-interval 1s --timeout 1s --healthy-threshold 2 --unhealthy-threshold 1 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'
  gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed create natgw-us-central1-mig-a --project test-project --region us-central1 --zones us-central1-a --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-a --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM a (primary) of stateful gateway natgw-us-central1'
  gcloud compute instance-groups managed update natgw-us-central1-mig-a --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig-a --project test-project --region us-central1 --instance natgw-us-central1-kdnb --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-a,auto-delete=never
  gcloud compute instance-groups managed create natgw-us-central1-mig-b --project test-project --region us-central1 --zones us-central1-b --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-b --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM b (failover) of stateful gateway natgw-us-central1'
  gcloud compute instance-groups managed update natgw-us-central1-mig-b --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig-b --project test-project --region us-central1 --instance natgw-us-central1-2lkt --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-b,auto-delete=never
  gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer (next hop, a active / b standby) of stateful gateway natgw-us-central1'
  gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection
  gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover
  gcloud compute backend-services create natgw-us-central1-nlb --project test-project --region us-central1 --load-balancing-scheme external --protocol UNSPECIFIED --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; external passthrough load balancer holding the NAT IP (a active / b standby) of stateful gateway natgw-us-central1'
  gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection
  gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover
  gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'
  gcloud compute forwarding-rules create natgw-us-central1-nat-fr --project test-project --region us-central1 --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb --backend-service-region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the NAT IP of stateful gateway natgw-us-central1: replies to it reach the active NAT VM'
  # once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > stateful: destroy 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-default        delete
  - forwardingRule natgw-us-central1-nat-fr         delete
  - forwardingRule natgw-us-central1-fr             delete
  - backendService natgw-us-central1-nlb            delete
  - backendService natgw-us-central1-ilb            delete
  - mig            natgw-us-central1-mig-a          delete  (with its VMs natgw-us-central1-VM@us-central1-a)
  - mig            natgw-us-central1-mig-b          delete  (with its VMs natgw-us-central1-VM@us-central1-b)
  - healthCheck    natgw-us-central1-hc-lb          delete
  - healthCheck    natgw-us-central1-hc-heal        delete
  - template       natgw-us-central1-tmpl-T1    delete
  - firewall       natgw-us-central1-clients        delete
  - firewall       natgw-us-central1-health         delete
  - firewall       natgw-us-central1-allow-metrics  delete
  - firewall       natgw-us-central1-sync           delete
  - firewall       natgw-us-central1-return         delete
  - address        natgw-us-central1-sync-a         delete
  - address        natgw-us-central1-sync-b         delete
  - address        natgw-us-central1-nat-ip         delete
Destroyed 18 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > stateful: status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful; project test-project, region us-central1): serving (2/2 NAT VMs healthy, state synced)
  NAT IP    203.0.113.1
  vm a      natgw-us-central1-VM@us-central1-a          ACTIVE — ilb HEALTHY, nlb HEALTHY (RUNNING in us-central1-a, 10.10.0.2; agent: ok; sync peer up, resynced)
  vm b      natgw-us-central1-VM@us-central1-b          STANDBY — ilb HEALTHY, nlb HEALTHY (RUNNING in us-central1-b, 10.10.0.3; agent: ok; sync peer up, resynced)
  check     natgw-us-central1-hc-lb         /healthz/hold/850 every 1s, timeout 1s, unhealthy after 1
  check     natgw-us-central1-hc-heal       /livez every 10s, timeout 5s, unhealthy after 3
  lb        natgw-us-central1-fr            10.10.0.4 TCP → natgw-us-central1-ilb
  lb        natgw-us-central1-nat-fr        203.0.113.1 L3_DEFAULT → natgw-us-central1-nlb
  firewall  natgw-us-central1-clients       present
  firewall  natgw-us-central1-health        present
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics present
  firewall  natgw-us-central1-sync          present
  firewall  natgw-us-central1-return        present
  route     natgw-us-central1-default       0.0.0.0/0 → regions/us-central1/forwardingRules/natgw-us-central1-fr, tags natgw-us-central1-client, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > --metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config > stateful: without the flag, --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip         unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a         unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b         unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients        unchanged
  = firewall       natgw-us-central1-health         unchanged
  = firewall       natgw-us-central1-sync           unchanged
  = firewall       natgw-us-central1-return         unchanged
  - firewall       natgw-us-central1-allow-metrics  delete  (no longer wanted)
  = healthCheck    natgw-us-central1-hc-lb          unchanged
  = healthCheck    natgw-us-central1-hc-heal        unchanged
  + template       natgw-us-central1-tmpl-T1    create
  ~ mig            natgw-us-central1-mig-a          update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-a           replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ~ mig            natgw-us-central1-mig-b          update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-b           replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  = backendService natgw-us-central1-ilb            unchanged
  = backendService natgw-us-central1-nlb            unchanged
  = forwardingRule natgw-us-central1-fr             unchanged
  = forwardingRule natgw-us-central1-nat-fr         unchanged
  = route          natgw-us-central1-default        unchanged
  - template       natgw-us-central1-tmpl-T2    delete  (superseded; deleted once no VM group uses it)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules delete natgw-us-central1-allow-metrics --project test-project --quiet
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig-a --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig-b --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet
  # first the standby (b); before the next step wait until natgw-us-central1-VM@us-central1-b is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' and its guest attribute natgw/sync shows "resynced": true ('gcloud compute instances get-guest-attributes natgw-us-central1-VM@us-central1-b --zone us-central1-b --query-path natgw/'):
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig-b --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace
  # then the primary (a); before the next step wait until natgw-us-central1-VM@us-central1-a is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' and its guest attribute natgw/sync shows "resynced": true ('gcloud compute instances get-guest-attributes natgw-us-central1-VM@us-central1-a --zone us-central1-a --query-path natgw/'):
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig-a --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a backend service changed by hand is patched back, in both HA modes > ha: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  ~ backendService natgw-us-central1-ilb          update
        connectionDraining.drainingTimeoutSec: 30 → 8
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute backend-services update natgw-us-central1-ilb --project test-project --region us-central1 --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a backend service changed by hand is patched back, in both HA modes > ha: apply --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.2"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "unchanged",
      "diffs": [],
      "note": "us-central1-a, NAT IP from natgw-us-central1-ip-1"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "unchanged",
      "diffs": [],
      "note": "us-central1-b, NAT IP from natgw-us-central1-ip-2"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "update",
      "diffs": [
        {
          "field": "connectionDraining.drainingTimeoutSec",
          "have": "30",
          "want": "8"
        }
      ]
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute backend-services update natgw-us-central1-ilb --project test-project --region us-central1 --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ],
  "result": {
    "natIps": [
      "203.0.113.1",
      "203.0.113.2"
    ],
    "healthy": [
      "natgw-us-central1-VM@us-central1-a",
      "natgw-us-central1-VM@us-central1-b"
    ],
    "applied": [
      {
        "kind": "backendService",
        "name": "natgw-us-central1-ilb",
        "action": "update"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > a backend service changed by hand is patched back, in both HA modes > stateful: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  ~ backendService natgw-us-central1-ilb          update
        connectionDraining.drainingTimeoutSec: 30 → 4
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute backend-services update natgw-us-central1-ilb --project test-project --region us-central1 --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a backend service changed by hand is patched back, in both HA modes > stateful: apply --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "stateful",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b"
  ],
  "members": [
    {
      "member": "a",
      "role": "primary",
      "zone": "us-central1-a",
      "mig": "natgw-us-central1-mig-a",
      "vm": "natgw-us-central1-VM@us-central1-a",
      "internalIp": "10.10.0.2",
      "ports": "1024-33279"
    },
    {
      "member": "b",
      "role": "failover",
      "zone": "us-central1-b",
      "mig": "natgw-us-central1-mig-b",
      "vm": "natgw-us-central1-VM@us-central1-b",
      "internalIp": "10.10.0.3",
      "ports": "33280-65535"
    }
  ],
  "natIp": "203.0.113.1",
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "healthyThreshold": 2,
      "unhealthyThreshold": 1,
      "requestPath": "/healthz/hold/850"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 4,
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "userCheck": "on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)",
  "docs": "docs/stateful-ha.md",
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "unchanged",
      "diffs": [],
      "note": "10.10.0.2"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "unchanged",
      "diffs": [],
      "note": "10.10.0.3"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "unchanged",
      "diffs": [],
      "note": "primary in us-central1-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "unchanged",
      "diffs": [],
      "note": "failover in us-central1-b"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "update",
      "diffs": [
        {
          "field": "connectionDraining.drainingTimeoutSec",
          "have": "30",
          "want": "4"
        }
      ]
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute backend-services update natgw-us-central1-ilb --project test-project --region us-central1 --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST"
  ],
  "warnings": [
    "stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.",
    "stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route)."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "healthy": [],
    "applied": [
      {
        "kind": "backendService",
        "name": "natgw-us-central1-ilb",
        "action": "update"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes > ha: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb          unchanged
  ± forwardingRule natgw-us-central1-fr           replace  (forwarding rules cannot be changed in place; the route goes meanwhile)
        allPorts: false → true
  ± route          natgw-us-central1-default      replace  (it points at the forwarding rule being replaced)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet
  gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes > ha: --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb          unchanged
  ± forwardingRule natgw-us-central1-fr           replace  (forwarding rules cannot be changed in place; the route goes meanwhile)
        allPorts: false → true
  ± route          natgw-us-central1-default      replace  (it points at the forwarding rule being replaced)


Done. NAT IPs (allow-list all of them): 203.0.113.1, 203.0.113.2. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes > ha: without --yes 1`] = `
exit 2
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb          unchanged
  ± forwardingRule natgw-us-central1-fr           replace  (forwarding rules cannot be changed in place; the route goes meanwhile)
        allPorts: false → true
  ± route          natgw-us-central1-default      replace  (it points at the forwarding rule being replaced)

--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: the plan removes NAT VMs or briefly the route (forwardingRule natgw-us-central1-fr (replace)); no terminal to ask on, so re-run with --yes to accept

`

exports[`test/provision-golden.test.ts > TAP > a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes > stateful: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  ± forwardingRule natgw-us-central1-fr           replace  (forwarding rules cannot be changed in place; the route goes meanwhile)
        allPorts: false → true
  ± forwardingRule natgw-us-central1-nat-fr       replace  (forwarding rules cannot be changed in place; replies to the NAT IP are lost meanwhile)
        allPorts: false → true
  ± route          natgw-us-central1-default      replace  (it points at the forwarding rule being replaced)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet
  gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'
  gcloud compute forwarding-rules delete natgw-us-central1-nat-fr --project test-project --region us-central1 --quiet
  gcloud compute forwarding-rules create natgw-us-central1-nat-fr --project test-project --region us-central1 --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb --backend-service-region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the NAT IP of stateful gateway natgw-us-central1: replies to it reach the active NAT VM'
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes > stateful: --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  ± forwardingRule natgw-us-central1-fr           replace  (forwarding rules cannot be changed in place; the route goes meanwhile)
        allPorts: false → true
  ± forwardingRule natgw-us-central1-nat-fr       replace  (forwarding rules cannot be changed in place; replies to the NAT IP are lost meanwhile)
        allPorts: false → true
  ± route          natgw-us-central1-default      replace  (it points at the forwarding rule being replaced)


Done. NAT IP (allow-list it): 203.0.113.1. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr; their connections survive the loss of one NAT VM.
Check on your project (GCE behaviour Google does not document): on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes > stateful: without --yes 1`] = `
exit 2
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  ± forwardingRule natgw-us-central1-fr           replace  (forwarding rules cannot be changed in place; the route goes meanwhile)
        allPorts: false → true
  ± forwardingRule natgw-us-central1-nat-fr       replace  (forwarding rules cannot be changed in place; replies to the NAT IP are lost meanwhile)
        allPorts: false → true
  ± route          natgw-us-central1-default      replace  (it points at the forwarding rule being replaced)

--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: the plan replaces forwardingRule natgw-us-central1-fr (replace), forwardingRule natgw-us-central1-nat-fr (replace): traffic through it stops meanwhile; no terminal to ask on, so re-run with --yes to accept

`

exports[`test/provision-golden.test.ts > TAP > a health check changed by hand is patched back, in both HA modes > ha: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  ~ healthCheck    natgw-us-central1-hc-heal      update
        checkIntervalSec: 30 → 10
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute health-checks update http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a health check changed by hand is patched back, in both HA modes > ha: apply 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  ~ healthCheck    natgw-us-central1-hc-heal      update
        checkIntervalSec: 30 → 10
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged


Done. NAT IPs (allow-list all of them): 203.0.113.1, 203.0.113.2. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a health check changed by hand is patched back, in both HA modes > stateful: --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  ~ healthCheck    natgw-us-central1-hc-heal      update
        checkIntervalSec: 30 → 10
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute health-checks update http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > a health check changed by hand is patched back, in both HA modes > stateful: apply 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  ~ healthCheck    natgw-us-central1-hc-heal      update
        checkIntervalSec: 30 → 10
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged


Done. NAT IP (allow-list it): 203.0.113.1. Healthy backends: none reported yet.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr; their connections survive the loss of one NAT VM.
Check on your project (GCE behaviour Google does not document): on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > conflicts: a resource with one of the gateway names that natgw does not own stops each mode > ha: --json 1`] = `
exit 1
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [
      "firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project"
    ],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    null,
    null
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "conflict",
      "diffs": [],
      "note": "a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "create",
      "diffs": [],
      "note": "/healthz every 2s"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "create",
      "diffs": [],
      "note": "/livez every 10s"
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-a, us-central1-b, us-central1-c"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-keqk",
      "action": "create",
      "diffs": [],
      "note": "NAT IP from natgw-us-central1-ip-1"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-varw",
      "action": "create",
      "diffs": [],
      "note": "NAT IP from natgw-us-central1-ip-2"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once a load-balancer backend is healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-ip-1 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 1 of HA gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip-1 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-ip-2 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 2 of HA gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip-2 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\\\''s /healthz and /livez'",
    "gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz --check-interval 2s --timeout 2s --healthy-threshold 2 --unhealthy-threshold 2 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'",
    "gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed create natgw-us-central1-mig --project test-project --region us-central1 --zones us-central1-a,us-central1-b,us-central1-c --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1 --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-external-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VMs of HA gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 3 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-keqk --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-1,auto-delete=never",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-varw --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-2,auto-delete=never",
    "gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer of NAT gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'",
    "# once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).",
    "firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project"
  ],
  "error": "conflicts"
}
--- stderr (warnings, notes, errors)
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > conflicts: a resource with one of the gateway names that natgw does not own stops each mode > ha: text 1`] = `
exit 1
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  ! firewall       natgw-us-central1-clients      conflict  (a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it)
  + address        natgw-us-central1-ip-1         create
  + address        natgw-us-central1-ip-2         create
  + firewall       natgw-us-central1-health       create
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig          create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-keqk         create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-varw         create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb          create
  + forwardingRule natgw-us-central1-fr           create
  + route          natgw-us-central1-default      create  (created once a load-balancer backend is healthy)

--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
warning: firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > conflicts: a resource with one of the gateway names that natgw does not own stops each mode > single: --json 1`] = `
exit 1
--- stdout
{
  "command": "provision",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zone": "us-central1-a",
  "machineType": "e2-small",
  "architecture": "X86_64",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [
      "firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project"
    ],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "upToDate": false,
  "changes": [
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "conflict",
      "diffs": [],
      "note": "a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once the agent reports healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\\\''s /healthz'",
    "gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt",
    "# once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.",
    "firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project"
  ],
  "error": "conflicts"
}
--- stderr (warnings, notes, errors)
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > conflicts: a resource with one of the gateway names that natgw does not own stops each mode > single: text 1`] = `
exit 1
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  ! firewall natgw-us-central1-clients  conflict  (a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it)
  + address  natgw-us-central1-ip       create
  + firewall natgw-us-central1-health   create
  + instance natgw-us-central1          create
  + route    natgw-us-central1-default  create  (created once the agent reports healthy)

--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
warning: firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > conflicts: a resource with one of the gateway names that natgw does not own stops each mode > stateful: --json 1`] = `
exit 1
--- stdout
{
  "command": "provision",
  "mode": "stateful",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b"
  ],
  "members": [
    {
      "member": "a",
      "role": "primary",
      "zone": "us-central1-a",
      "mig": "natgw-us-central1-mig-a",
      "vm": "natgw-us-central1-kdnb",
      "internalIp": null,
      "ports": "1024-33279"
    },
    {
      "member": "b",
      "role": "failover",
      "zone": "us-central1-b",
      "mig": "natgw-us-central1-mig-b",
      "vm": "natgw-us-central1-2lkt",
      "internalIp": null,
      "ports": "33280-65535"
    }
  ],
  "natIp": null,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [
      "firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project"
    ],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "healthyThreshold": 2,
      "unhealthyThreshold": 1,
      "requestPath": "/healthz/hold/850"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 4,
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "userCheck": "on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md)",
  "docs": "docs/stateful-ha.md",
  "upToDate": false,
  "changes": [
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "conflict",
      "diffs": [],
      "note": "a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "create",
      "diffs": [],
      "note": "EXTERNAL: the one NAT IP to allow-list"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "create",
      "diffs": [],
      "note": "INTERNAL: nic0 of NAT VM a, sync peer"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "create",
      "diffs": [],
      "note": "INTERNAL: nic0 of NAT VM b, sync peer"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "create",
      "diffs": [],
      "note": "/healthz/hold/850 every 1s"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "create",
      "diffs": [],
      "note": "/livez every 10s"
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-a"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-kdnb",
      "action": "create",
      "diffs": [],
      "note": "primary in us-central1-a, IP from natgw-us-central1-sync-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-b"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-2lkt",
      "action": "create",
      "diffs": [],
      "note": "failover in us-central1-b, IP from natgw-us-central1-sync-b"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once a load-balancer backend is healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-nat-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the one NAT IP of stateful gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-nat-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-sync-a --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM a of stateful gateway natgw-us-central1 (state sync peer)'",
    "gcloud compute addresses update natgw-us-central1-sync-a --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-sync-b --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM b of stateful gateway natgw-us-central1 (state sync peer)'",
    "gcloud compute addresses update natgw-us-central1-sync-b --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22,209.85.152.0/22,209.85.204.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks (internal and external load balancer) may reach the natgw agent'\\\\''s /healthz and /livez'",
    "gcloud compute firewall-rules create natgw-us-central1-sync --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules udp:3780,tcp:9731 --source-tags natgw-us-central1 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; connection-state sync (conntrackd) and flow counts between the NAT VMs of gateway natgw-us-central1 only'",
    "gcloud compute firewall-rules create natgw-us-central1-return --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:1024-9730,tcp:9732-65535,udp:1024-3779,udp:3781-65535,icmp --source-ranges 0.0.0.0/0 --destination-ranges $(gcloud compute addresses describe natgw-us-central1-nat-ip --project test-project --region us-central1 --format='value(address)')/32 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; replies to the shared NAT IP of gateway natgw-us-central1 reach whichever NAT VM holds the flows'",
    "gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz/hold/850 --check-interval 1s --timeout 1s --healthy-threshold 2 --unhealthy-threshold 1 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'",
    "gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed create natgw-us-central1-mig-a --project test-project --region us-central1 --zones us-central1-a --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-a --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM a (primary) of stateful gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig-a --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig-a --project test-project --region us-central1 --instance natgw-us-central1-kdnb --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-a,auto-delete=never",
    "gcloud compute instance-groups managed create natgw-us-central1-mig-b --project test-project --region us-central1 --zones us-central1-b --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-b --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM b (failover) of stateful gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig-b --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig-b --project test-project --region us-central1 --instance natgw-us-central1-2lkt --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-b,auto-delete=never",
    "gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer (next hop, a active / b standby) of stateful gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover",
    "gcloud compute backend-services create natgw-us-central1-nlb --project test-project --region us-central1 --load-balancing-scheme external --protocol UNSPECIFIED --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; external passthrough load balancer holding the NAT IP (a active / b standby) of stateful gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover",
    "gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'",
    "gcloud compute forwarding-rules create natgw-us-central1-nat-fr --project test-project --region us-central1 --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb --backend-service-region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the NAT IP of stateful gateway natgw-us-central1: replies to it reach the active NAT VM'",
    "# once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.",
    "stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).",
    "firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project"
  ],
  "error": "conflicts"
}
--- stderr (warnings, notes, errors)
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > conflicts: a resource with one of the gateway names that natgw does not own stops each mode > stateful: text 1`] = `
exit 1
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  ! firewall       natgw-us-central1-clients      conflict  (a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it)
  + address        natgw-us-central1-nat-ip       create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a       create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b       create  (INTERNAL: nic0 of NAT VM b, sync peer)
  + firewall       natgw-us-central1-health       create
  + firewall       natgw-us-central1-sync         create
  + firewall       natgw-us-central1-return       create
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz/hold/850 every 1s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig-a        create  (zones us-central1-a)
  + vm             natgw-us-central1-kdnb         create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b        create  (zones us-central1-b)
  + vm             natgw-us-central1-2lkt         create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  + backendService natgw-us-central1-ilb          create
  + backendService natgw-us-central1-nlb          create
  + forwardingRule natgw-us-central1-fr           create
  + forwardingRule natgw-us-central1-nat-fr       create
  + route          natgw-us-central1-default      create  (created once a load-balancer backend is healthy)

--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
warning: firewall rule natgw-us-central1-clients lets the internet (0.0.0.0/0) reach the NAT VM on tcp:22 (it applies to every instance of the network), and the NAT VM has a public IP. Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --source-ranges 35.235.240.0/20, or delete it: gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --machine-type e2-medium --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  + template       natgw-us-central1-tmpl-T1  create
  ~ mig            natgw-us-central1-mig          update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-a         replace  (rolling: drained, recreated with the same name and IP, healthy before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-b         replace  (rolling: drained, recreated with the same name and IP, healthy before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged
  - template       natgw-us-central1-tmpl-T2  delete  (superseded; deleted once no VM group uses it)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-medium --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  # one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace
  # one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --machine-type e2-medium --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-medium",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.2"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "update",
      "diffs": [
        {
          "field": "instanceTemplate",
          "have": "natgw-us-central1-tmpl-T2",
          "want": "natgw-us-central1-tmpl-T1"
        }
      ],
      "note": "new template: VMs are replaced one at a time, each drained first"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "replace",
      "diffs": [
        {
          "field": "template",
          "have": "natgw-us-central1-tmpl-T2",
          "want": "natgw-us-central1-tmpl-T1"
        }
      ],
      "note": "rolling: drained, recreated with the same name and IP, healthy before the next"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "replace",
      "diffs": [
        {
          "field": "template",
          "have": "natgw-us-central1-tmpl-T2",
          "want": "natgw-us-central1-tmpl-T1"
        }
      ],
      "note": "rolling: drained, recreated with the same name and IP, healthy before the next"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T2",
      "action": "delete",
      "diffs": [],
      "note": "superseded; deleted once no VM group uses it"
    }
  ],
  "gcloud": [
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-medium --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1",
    "# one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':",
    "gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace",
    "# one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':",
    "gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace",
    "gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ],
  "result": {
    "natIps": [
      "203.0.113.1",
      "203.0.113.2"
    ],
    "healthy": [
      "natgw-us-central1-VM@us-central1-a",
      "natgw-us-central1-VM@us-central1-b"
    ],
    "applied": [
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T1",
        "action": "create"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig",
        "action": "update"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-a",
        "action": "replace"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-b",
        "action": "replace"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T2",
        "action": "delete"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --size 2 --yes --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.2"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "unchanged",
      "diffs": [],
      "note": "us-central1-a, NAT IP from natgw-us-central1-ip-1"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "unchanged",
      "diffs": [],
      "note": "us-central1-b, NAT IP from natgw-us-central1-ip-2"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-c",
      "action": "delete",
      "diffs": [],
      "note": "--size 2: scaled away with natgw-us-central1-ip-3"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-3",
      "action": "delete",
      "diffs": [],
      "note": "--size 2: released once its VM is gone"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute instance-groups managed delete-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-c",
    "gcloud compute addresses delete natgw-us-central1-ip-3 --project test-project --region us-central1 --quiet"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --size 2 --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  - vm             natgw-us-central1-VM@us-central1-c         delete  (--size 2: scaled away with natgw-us-central1-ip-3)
  - address        natgw-us-central1-ip-3         delete  (--size 2: released once its VM is gone)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged


Done. NAT IPs (allow-list all of them): 203.0.113.1, 203.0.113.2. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --size 2 without --yes 1`] = `
exit 2
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  - vm             natgw-us-central1-VM@us-central1-c         delete  (--size 2: scaled away with natgw-us-central1-ip-3)
  - address        natgw-us-central1-ip-3         delete  (--size 2: released once its VM is gone)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged

--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: the plan removes NAT VMs or briefly the route (vm natgw-us-central1-VM@us-central1-c (delete)); no terminal to ask on, so re-run with --yes to accept

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --size 3 --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 3 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  + address        natgw-us-central1-ip-3         create
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  + vm             natgw-us-central1-198v         create  (NAT IP from natgw-us-central1-ip-3)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip-3 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 3 of HA gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip-3 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-198v --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-3,auto-delete=never
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --size 3 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 3 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  + address        natgw-us-central1-ip-3         create
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  + vm             natgw-us-central1-VM@us-central1-c         create  (NAT IP from natgw-us-central1-ip-3)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged


Done. NAT IPs (allow-list all of them): 203.0.113.1, 203.0.113.2, 203.0.113.3. Healthy backends: natgw-us-central1-VM@us-central1-c, natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > --stateful over HA 1`] = `
exit 1
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  ! mig            natgw-us-central1-mig          conflict  (gateway natgw-us-central1 runs in HA mode without --stateful; switching is not done in place: run 'natgw destroy' first (its NAT IPs go away), then 'natgw provision --ha --stateful')
  + address        natgw-us-central1-nat-ip       create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a       create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b       create  (INTERNAL: nic0 of NAT VM b, sync peer)
  = firewall       natgw-us-central1-clients      unchanged
  ~ firewall       natgw-us-central1-health       update
        sourceRanges: 130.211.0.0/22,35.191.0.0/16 → 130.211.0.0/22,209.85.152.0/22,209.85.204.0/22,35.191.0.0/16
        description: natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent's /healthz and /livez → natgw-gateway=natgw-us-central1; Google health checks (internal and external load balancer) may reach the natgw agent's /healthz and /livez
  + firewall       natgw-us-central1-sync         create
  + firewall       natgw-us-central1-return       create
  ~ healthCheck    natgw-us-central1-hc-lb        update
        checkIntervalSec: 2 → 1
        timeoutSec: 2 → 1
        unhealthyThreshold: 2 → 1
        httpHealthCheck.requestPath: /healthz → /healthz/hold/850
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig-a        create  (zones us-central1-a)
  + vm             natgw-us-central1-kdnb         create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b        create  (zones us-central1-b)
  + vm             natgw-us-central1-2lkt         create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  ~ backendService natgw-us-central1-ilb          update
        backends: regions/us-central1/instanceGroups/natgw-us-central1-mig → regions/us-central1/instanceGroups/natgw-us-central1-mig-a,regions/us-central1/instanceGroups/natgw-us-central1-mig-b (failover)
        connectionDraining.drainingTimeoutSec: 8 → 4
        failoverPolicy.failoverRatio: (none) → 0
        failoverPolicy.dropTrafficIfUnhealthy: (none) → false
        failoverPolicy.disableConnectionDrainOnFailover: (none) → true
        connectionTrackingPolicy.connectionPersistenceOnUnhealthyBackends: DEFAULT_FOR_PROTOCOL → NEVER_PERSIST
  + backendService natgw-us-central1-nlb          create
  = forwardingRule natgw-us-central1-fr           unchanged
  + forwardingRule natgw-us-central1-nat-fr       create
  = route          natgw-us-central1-default      unchanged
  - template       natgw-us-central1-tmpl-T2  delete  (superseded; deleted once no VM group uses it)

--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > a firewall update --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-medium",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24",
    "10.99.0.0/16"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.2"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "update",
      "diffs": [
        {
          "field": "sourceRanges",
          "have": "10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24",
          "want": "10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16"
        }
      ]
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "update",
      "diffs": [
        {
          "field": "instanceTemplate",
          "have": "natgw-us-central1-tmpl-T2",
          "want": "natgw-us-central1-tmpl-T1"
        }
      ],
      "note": "new template: VMs are replaced one at a time, each drained first"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "replace",
      "diffs": [
        {
          "field": "template",
          "have": "natgw-us-central1-tmpl-T2",
          "want": "natgw-us-central1-tmpl-T1"
        }
      ],
      "note": "rolling: drained, recreated with the same name and IP, healthy before the next"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "replace",
      "diffs": [
        {
          "field": "template",
          "have": "natgw-us-central1-tmpl-T2",
          "want": "natgw-us-central1-tmpl-T1"
        }
      ],
      "note": "rolling: drained, recreated with the same name and IP, healthy before the next"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T2",
      "action": "delete",
      "diffs": [],
      "note": "superseded; deleted once no VM group uses it"
    }
  ],
  "gcloud": [
    "gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-medium --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1",
    "# one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':",
    "gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace",
    "# one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --region us-central1':",
    "gcloud compute instance-groups managed update-instances natgw-us-central1-mig --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace",
    "gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ],
  "result": {
    "natIps": [
      "203.0.113.1",
      "203.0.113.2"
    ],
    "healthy": [
      "natgw-us-central1-VM@us-central1-a",
      "natgw-us-central1-VM@us-central1-b"
    ],
    "applied": [
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "update"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T1",
        "action": "create"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig",
        "action": "update"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-a",
        "action": "replace"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-b",
        "action": "replace"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T2",
        "action": "delete"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > single over HA 1`] = `
exit 1
--- stdout
--- stderr (warnings, notes, errors)
natgw provision: gateway natgw-us-central1 runs in HA mode (managed instance group natgw-us-central1-mig); switching to single mode is not done in place: run 'natgw destroy' for it first (its NAT IPs go away), then provision without --ha, or keep it and add --ha

`

exports[`test/provision-golden.test.ts > TAP > ha: plans that change a provisioned gateway > status --json after the roll 1`] = `
exit 0
--- stdout
{
  "command": "status",
  "mode": "ha",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": true,
  "healthyBackends": 2,
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "mig": {
    "name": "natgw-us-central1-mig",
    "targetSize": 2,
    "template": "natgw-us-central1-tmpl-T1",
    "zones": [
      "us-central1-a",
      "us-central1-b",
      "us-central1-c"
    ]
  },
  "backends": [
    {
      "name": "natgw-us-central1-VM@us-central1-a",
      "zone": "us-central1-a",
      "status": "RUNNING",
      "template": "natgw-us-central1-tmpl-T1",
      "natIp": "203.0.113.1",
      "loadBalancer": "HEALTHY",
      "agent": "ok"
    },
    {
      "name": "natgw-us-central1-VM@us-central1-b",
      "zone": "us-central1-b",
      "status": "RUNNING",
      "template": "natgw-us-central1-tmpl-T1",
      "natIp": "203.0.113.2",
      "loadBalancer": "HEALTHY",
      "agent": "ok"
    }
  ],
  "forwardingRule": {
    "name": "natgw-us-central1-fr",
    "IPAddress": "10.10.0.4",
    "IPProtocol": "TCP",
    "allPorts": true
  },
  "backendService": {
    "name": "natgw-us-central1-ilb",
    "healthChecks": [
      "natgw-us-central1-hc-lb"
    ]
  },
  "healthChecks": [
    {
      "name": "natgw-us-central1-hc-lb",
      "present": true,
      "requestPath": "/healthz",
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "unhealthyThreshold": 2
    },
    {
      "name": "natgw-us-central1-hc-heal",
      "present": true,
      "requestPath": "/livez",
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "unhealthyThreshold": 3
    }
  ],
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": true
    },
    {
      "name": "natgw-us-central1-health",
      "present": true
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    }
  ],
  "route": {
    "name": "natgw-us-central1-default",
    "destRange": "0.0.0.0/0",
    "nextHopIlb": "https://www.googleapis.com/compute/v1/projects/test-project/regions/us-central1/forwardingRules/natgw-us-central1-fr",
    "tags": [
      "natgw-us-central1-client"
    ],
    "priority": 800,
    "warnings": []
  },
  "warnings": [],
  "servingPath": {
    "path": "natgw",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > destroy --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "destroy",
  "mode": "ha",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "changes": [
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "delete",
      "diffs": [],
      "note": "with its VMs natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "delete",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute routes delete natgw-us-central1-default --project test-project --quiet",
    "gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet",
    "gcloud compute backend-services delete natgw-us-central1-ilb --project test-project --region us-central1 --quiet",
    "gcloud compute instance-groups managed delete natgw-us-central1-mig --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-lb --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-heal --project test-project --region us-central1 --quiet",
    "gcloud compute instance-templates delete natgw-us-central1-tmpl-T1 --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet",
    "gcloud compute addresses delete natgw-us-central1-ip-1 --project test-project --region us-central1 --quiet",
    "gcloud compute addresses delete natgw-us-central1-ip-2 --project test-project --region us-central1 --quiet"
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > destroy --yes --json 1`] = `
exit 0
--- stdout
{
  "command": "destroy",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "changes": [
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "delete",
      "diffs": [],
      "note": "with its VMs natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "delete",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute routes delete natgw-us-central1-default --project test-project --quiet",
    "gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet",
    "gcloud compute backend-services delete natgw-us-central1-ilb --project test-project --region us-central1 --quiet",
    "gcloud compute instance-groups managed delete natgw-us-central1-mig --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-lb --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-heal --project test-project --region us-central1 --quiet",
    "gcloud compute instance-templates delete natgw-us-central1-tmpl-T1 --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet",
    "gcloud compute addresses delete natgw-us-central1-ip-1 --project test-project --region us-central1 --quiet",
    "gcloud compute addresses delete natgw-us-central1-ip-2 --project test-project --region us-central1 --quiet"
  ],
  "result": {
    "applied": [
      {
        "kind": "route",
        "name": "natgw-us-central1-default",
        "action": "delete"
      },
      {
        "kind": "forwardingRule",
        "name": "natgw-us-central1-fr",
        "action": "delete"
      },
      {
        "kind": "backendService",
        "name": "natgw-us-central1-ilb",
        "action": "delete"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig",
        "action": "delete"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-lb",
        "action": "delete"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-heal",
        "action": "delete"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T1",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-health",
        "action": "delete"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-ip-1",
        "action": "delete"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-ip-2",
        "action": "delete"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > provision --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    null,
    null
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "create",
      "diffs": [],
      "note": "/healthz every 2s"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "create",
      "diffs": [],
      "note": "/livez every 10s"
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-a, us-central1-b, us-central1-c"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-keqk",
      "action": "create",
      "diffs": [],
      "note": "NAT IP from natgw-us-central1-ip-1"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-varw",
      "action": "create",
      "diffs": [],
      "note": "NAT IP from natgw-us-central1-ip-2"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once a load-balancer backend is healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-ip-1 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 1 of HA gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip-1 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-ip-2 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 2 of HA gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip-2 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\\\''s /healthz and /livez'",
    "gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz --check-interval 2s --timeout 2s --healthy-threshold 2 --unhealthy-threshold 2 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'",
    "gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed create natgw-us-central1-mig --project test-project --region us-central1 --zones us-central1-a,us-central1-b,us-central1-c --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1 --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-external-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VMs of HA gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 3 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-keqk --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-1,auto-delete=never",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-varw --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-2,auto-delete=never",
    "gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer of NAT gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'",
    "# once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > provision --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "create",
      "diffs": [],
      "note": "/healthz every 2s"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "create",
      "diffs": [],
      "note": "/livez every 10s"
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-a, us-central1-b, us-central1-c"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "create",
      "diffs": [],
      "note": "NAT IP from natgw-us-central1-ip-1"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "create",
      "diffs": [],
      "note": "NAT IP from natgw-us-central1-ip-2"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once a load-balancer backend is healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-ip-1 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 1 of HA gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip-1 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-ip-2 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 2 of HA gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip-2 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\\\''s /healthz and /livez'",
    "gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz --check-interval 2s --timeout 2s --healthy-threshold 2 --unhealthy-threshold 2 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'",
    "gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed create natgw-us-central1-mig --project test-project --region us-central1 --zones us-central1-a,us-central1-b,us-central1-c --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1 --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-external-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VMs of HA gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 3 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-VM@us-central1-a --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-1,auto-delete=never",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-VM@us-central1-b --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-2,auto-delete=never",
    "gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer of NAT gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'",
    "# once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ],
  "result": {
    "natIps": [
      "203.0.113.1",
      "203.0.113.2"
    ],
    "healthy": [
      "natgw-us-central1-VM@us-central1-a",
      "natgw-us-central1-VM@us-central1-b"
    ],
    "applied": [
      {
        "kind": "address",
        "name": "natgw-us-central1-ip-1",
        "action": "create"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-ip-2",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-health",
        "action": "create"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-lb",
        "action": "create"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-heal",
        "action": "create"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T1",
        "action": "create"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig",
        "action": "create"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-a",
        "action": "create"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-b",
        "action": "create"
      },
      {
        "kind": "backendService",
        "name": "natgw-us-central1-ilb",
        "action": "create"
      },
      {
        "kind": "forwardingRule",
        "name": "natgw-us-central1-fr",
        "action": "create"
      },
      {
        "kind": "route",
        "name": "natgw-us-central1-default",
        "action": "create"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > provision again --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c"
  ],
  "size": 2,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "healthyThreshold": 2,
      "unhealthyThreshold": 2,
      "requestPath": "/healthz"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 8,
  "upToDate": true,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-1",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip-2",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.2"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "unchanged",
      "diffs": [],
      "note": "us-central1-a, NAT IP from natgw-us-central1-ip-1"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "unchanged",
      "diffs": [],
      "note": "us-central1-b, NAT IP from natgw-us-central1-ip-2"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [],
  "warnings": [
    "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
    "HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route)."
  ],
  "result": {
    "natIps": [
      "203.0.113.1",
      "203.0.113.2"
    ],
    "applied": []
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > status --json 1`] = `
exit 0
--- stdout
{
  "command": "status",
  "mode": "ha",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": true,
  "healthyBackends": 2,
  "natIps": [
    "203.0.113.1",
    "203.0.113.2"
  ],
  "mig": {
    "name": "natgw-us-central1-mig",
    "targetSize": 2,
    "template": "natgw-us-central1-tmpl-T1",
    "zones": [
      "us-central1-a",
      "us-central1-b",
      "us-central1-c"
    ]
  },
  "backends": [
    {
      "name": "natgw-us-central1-VM@us-central1-a",
      "zone": "us-central1-a",
      "status": "RUNNING",
      "template": "natgw-us-central1-tmpl-T1",
      "natIp": "203.0.113.1",
      "loadBalancer": "HEALTHY",
      "agent": "ok"
    },
    {
      "name": "natgw-us-central1-VM@us-central1-b",
      "zone": "us-central1-b",
      "status": "RUNNING",
      "template": "natgw-us-central1-tmpl-T1",
      "natIp": "203.0.113.2",
      "loadBalancer": "HEALTHY",
      "agent": "ok"
    }
  ],
  "forwardingRule": {
    "name": "natgw-us-central1-fr",
    "IPAddress": "10.10.0.4",
    "IPProtocol": "TCP",
    "allPorts": true
  },
  "backendService": {
    "name": "natgw-us-central1-ilb",
    "healthChecks": [
      "natgw-us-central1-hc-lb"
    ]
  },
  "healthChecks": [
    {
      "name": "natgw-us-central1-hc-lb",
      "present": true,
      "requestPath": "/healthz",
      "checkIntervalSec": 2,
      "timeoutSec": 2,
      "unhealthyThreshold": 2
    },
    {
      "name": "natgw-us-central1-hc-heal",
      "present": true,
      "requestPath": "/livez",
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "unhealthyThreshold": 3
    }
  ],
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": true
    },
    {
      "name": "natgw-us-central1-health",
      "present": true
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    }
  ],
  "route": {
    "name": "natgw-us-central1-default",
    "destRange": "0.0.0.0/0",
    "nextHopIlb": "https://www.googleapis.com/compute/v1/projects/test-project/regions/us-central1/forwardingRules/natgw-us-central1-fr",
    "tags": [
      "natgw-us-central1-client"
    ],
    "priority": 800,
    "warnings": []
  },
  "warnings": [],
  "servingPath": {
    "path": "natgw",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (--json) > status after destroy --json 1`] = `
exit 3
--- stdout
{
  "command": "status",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": false,
  "natIp": null,
  "address": null,
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": false
    },
    {
      "name": "natgw-us-central1-health",
      "present": false
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    }
  ],
  "instance": null,
  "health": null,
  "route": null,
  "warnings": [],
  "servingPath": {
    "path": "none",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-default      delete
  - forwardingRule natgw-us-central1-fr           delete
  - backendService natgw-us-central1-ilb          delete
  - mig            natgw-us-central1-mig          delete  (with its VMs natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b)
  - healthCheck    natgw-us-central1-hc-lb        delete
  - healthCheck    natgw-us-central1-hc-heal      delete
  - template       natgw-us-central1-tmpl-T1  delete
  - firewall       natgw-us-central1-clients      delete
  - firewall       natgw-us-central1-health       delete
  - address        natgw-us-central1-ip-1         delete
  - address        natgw-us-central1-ip-2         delete
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet
  gcloud compute backend-services delete natgw-us-central1-ilb --project test-project --region us-central1 --quiet
  gcloud compute instance-groups managed delete natgw-us-central1-mig --project test-project --region us-central1 --quiet
  gcloud compute health-checks delete natgw-us-central1-hc-lb --project test-project --region us-central1 --quiet
  gcloud compute health-checks delete natgw-us-central1-hc-heal --project test-project --region us-central1 --quiet
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T1 --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet
  gcloud compute addresses delete natgw-us-central1-ip-1 --project test-project --region us-central1 --quiet
  gcloud compute addresses delete natgw-us-central1-ip-2 --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > destroy --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-default      delete
  - forwardingRule natgw-us-central1-fr           delete
  - backendService natgw-us-central1-ilb          delete
  - mig            natgw-us-central1-mig          delete  (with its VMs natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b)
  - healthCheck    natgw-us-central1-hc-lb        delete
  - healthCheck    natgw-us-central1-hc-heal      delete
  - template       natgw-us-central1-tmpl-T1  delete
  - firewall       natgw-us-central1-clients      delete
  - firewall       natgw-us-central1-health       delete
  - address        natgw-us-central1-ip-1         delete
  - address        natgw-us-central1-ip-2         delete
Destroyed 11 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > destroy again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  nothing of it exists
Nothing to destroy.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > provision --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  + address        natgw-us-central1-ip-1         create
  + address        natgw-us-central1-ip-2         create
  + firewall       natgw-us-central1-clients      create
  + firewall       natgw-us-central1-health       create
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig          create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-keqk         create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-varw         create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb          create
  + forwardingRule natgw-us-central1-fr           create
  + route          natgw-us-central1-default      create  (created once a load-balancer backend is healthy)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip-1 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 1 of HA gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip-1 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute addresses create natgw-us-central1-ip-2 --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP 2 of HA gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip-2 --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\''s /healthz and /livez'
  gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz --check-interval 2s --timeout 2s --healthy-threshold 2 --unhealthy-threshold 2 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'
  gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed create natgw-us-central1-mig --project test-project --region us-central1 --zones us-central1-a,us-central1-b,us-central1-c --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1 --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-external-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VMs of HA gateway natgw-us-central1'
  gcloud compute instance-groups managed update natgw-us-central1-mig --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 3 --instance-redistribution-type none
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-keqk --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-1,auto-delete=never
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig --project test-project --region us-central1 --instance natgw-us-central1-varw --stateful-external-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip-2,auto-delete=never
  gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 8s --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer of NAT gateway natgw-us-central1'
  gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig --instance-group-region us-central1 --balancing-mode connection
  gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'
  # once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > provision 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  + address        natgw-us-central1-ip-1         create
  + address        natgw-us-central1-ip-2         create
  + firewall       natgw-us-central1-clients      create
  + firewall       natgw-us-central1-health       create
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig          create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-VM@us-central1-a         create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-VM@us-central1-b         create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb          create
  + forwardingRule natgw-us-central1-fr           create
  + route          natgw-us-central1-default      create  (created once a load-balancer backend is healthy)


Done. NAT IPs (allow-list all of them): 203.0.113.1, 203.0.113.2. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > provision again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1         unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2         unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig          unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = route          natgw-us-central1-default      unchanged

Up to date: nothing to do. NAT IPs 203.0.113.1, 203.0.113.2
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1): serving (2/2 backends healthy)
  NAT IPs   203.0.113.1, 203.0.113.2
  mig       natgw-us-central1-mig           2 VMs over us-central1-a, us-central1-b, us-central1-c, template natgw-us-central1-tmpl-T1
  backend   natgw-us-central1-VM@us-central1-a          HEALTHY (RUNNING in us-central1-a, NAT IP 203.0.113.1, agent: ok)
  backend   natgw-us-central1-VM@us-central1-b          HEALTHY (RUNNING in us-central1-b, NAT IP 203.0.113.2, agent: ok)
  check     natgw-us-central1-hc-lb         /healthz every 2s, timeout 2s, unhealthy after 2
  check     natgw-us-central1-hc-heal       /livez every 10s, timeout 5s, unhealthy after 3
  lb        natgw-us-central1-fr            10.10.0.4 TCP all ports → natgw-us-central1-ilb
  firewall  natgw-us-central1-clients       present
  firewall  natgw-us-central1-health        present
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  route     natgw-us-central1-default       0.0.0.0/0 → regions/us-central1/forwardingRules/natgw-us-central1-fr, tags natgw-us-central1-client, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > ha: provision plan and apply, a second run, status, destroy (text) > status after destroy 1`] = `
exit 3
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1): not provisioned
  address   natgw-us-central1-ip            absent
  firewall  natgw-us-central1-clients       absent
  firewall  natgw-us-central1-health        absent
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  instance  natgw-us-central1               absent
  agent     health                          absent
  route     natgw-us-central1-default       absent
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > --ha over single 1`] = `
exit 1
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  ! instance       natgw-us-central1              conflict  (gateway natgw-us-central1 runs in single mode (instance natgw-us-central1 in us-central1-a, address natgw-us-central1-ip (203.0.113.1), route natgw-us-central1-default → zones/us-central1-a/instances/natgw-us-central1); switching to HA is not done in place: run 'natgw destroy' for it first (its NAT IP goes away), then 'natgw provision --ha')
  + address        natgw-us-central1-ip-1         create
  + address        natgw-us-central1-ip-2         create
  = firewall       natgw-us-central1-clients      unchanged
  ~ firewall       natgw-us-central1-health       update
        description: natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent's /healthz → natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent's /healthz and /livez
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig          create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-keqk         create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-varw         create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb          create
  + forwardingRule natgw-us-central1-fr           create

--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: cannot proceed, nothing was changed:

`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > --iap-ssh --machine-type e2-medium --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-medium (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip       unchanged
  = firewall natgw-us-central1-clients  unchanged
  = firewall natgw-us-central1-health   unchanged
  + firewall natgw-us-central1-iap-ssh  create
  ± instance natgw-us-central1          replace  (these fields need a new VM: clients lose the NAT route until the new VM is healthy)
        machineType: e2-small → e2-medium
  ± route    natgw-us-central1-default  replace  (it points at the VM being replaced)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules create natgw-us-central1-iap-ssh --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:22 --source-ranges 35.235.240.0/20 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; SSH to the NAT VM through Identity-Aware Proxy only'
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute instances delete natgw-us-central1 --project test-project --zone us-central1-a --quiet
  gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-medium --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address 203.0.113.1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > --iap-ssh --machine-type e2-medium --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-medium (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip       unchanged
  = firewall natgw-us-central1-clients  unchanged
  = firewall natgw-us-central1-health   unchanged
  + firewall natgw-us-central1-iap-ssh  create
  ± instance natgw-us-central1          replace  (these fields need a new VM: clients lose the NAT route until the new VM is healthy)
        machineType: e2-small → e2-medium
  ± route    natgw-us-central1-default  replace  (it points at the VM being replaced)


Done. NAT IP 203.0.113.1. VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > --machine-type e2-medium without --yes 1`] = `
exit 2
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-medium (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip       unchanged
  = firewall natgw-us-central1-clients  unchanged
  = firewall natgw-us-central1-health   unchanged
  ± instance natgw-us-central1          replace  (these fields need a new VM: clients lose the NAT route until the new VM is healthy)
        machineType: e2-small → e2-medium
  ± route    natgw-us-central1-default  replace  (it points at the VM being replaced)

--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.
natgw provision: the plan replaces the NAT VM (clients lose egress meanwhile); no terminal to ask on, so re-run with --yes to accept

`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > a firewall update --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24, 10.99.0.0/16
NAT VM: e2-medium (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip       unchanged
  ~ firewall natgw-us-central1-clients  update
        sourceRanges: 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 → 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16
  = firewall natgw-us-central1-health   unchanged
  ~ instance natgw-us-central1          update
        metadata.natgw-config: {"sourceRanges":…(78 chars) → {"sourceRanges":…(93 chars)
  = route    natgw-us-central1-default  unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute instances add-metadata natgw-us-central1 --project test-project --zone us-central1-a --metadata-from-file natgw-config=natgw-config.txt,…
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > a firewall update 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24, 10.99.0.0/16
NAT VM: e2-medium (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip       unchanged
  ~ firewall natgw-us-central1-clients  update
        sourceRanges: 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 → 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16
  = firewall natgw-us-central1-health   unchanged
  ~ instance natgw-us-central1          update
        metadata.natgw-config: {"sourceRanges":…(78 chars) → {"sourceRanges":…(93 chars)
  = route    natgw-us-central1-default  unchanged


Done. NAT IP 203.0.113.1. VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: plans that change a provisioned gateway > back without --iap-ssh --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zone": "us-central1-a",
  "machineType": "e2-medium",
  "architecture": "X86_64",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-iap-ssh",
      "action": "delete",
      "diffs": [],
      "note": "no longer wanted"
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute firewall-rules delete natgw-us-central1-iap-ssh --project test-project --quiet"
  ],
  "warnings": [
    "single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "health": "unknown",
    "applied": [
      {
        "kind": "firewall",
        "name": "natgw-us-central1-iap-ssh",
        "action": "delete"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > destroy --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "destroy",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "changes": [
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "delete",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute routes delete natgw-us-central1-default --project test-project --quiet",
    "gcloud compute instances delete natgw-us-central1 --project test-project --zone us-central1-a --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet",
    "gcloud compute addresses delete natgw-us-central1-ip --project test-project --region us-central1 --quiet"
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > destroy --yes --json 1`] = `
exit 0
--- stdout
{
  "command": "destroy",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "changes": [
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "delete",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute routes delete natgw-us-central1-default --project test-project --quiet",
    "gcloud compute instances delete natgw-us-central1 --project test-project --zone us-central1-a --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet",
    "gcloud compute addresses delete natgw-us-central1-ip --project test-project --region us-central1 --quiet"
  ],
  "result": {
    "applied": [
      {
        "kind": "route",
        "name": "natgw-us-central1-default",
        "action": "delete"
      },
      {
        "kind": "instance",
        "name": "natgw-us-central1",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-health",
        "action": "delete"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-ip",
        "action": "delete"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > provision --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zone": "us-central1-a",
  "machineType": "e2-small",
  "architecture": "X86_64",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once the agent reports healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\\\''s /healthz'",
    "gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt",
    "# once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md."
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > provision --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zone": "us-central1-a",
  "machineType": "e2-small",
  "architecture": "X86_64",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once the agent reports healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\\\''s /healthz'",
    "gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt",
    "# once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "health": "ok",
    "applied": [
      {
        "kind": "address",
        "name": "natgw-us-central1-ip",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-health",
        "action": "create"
      },
      {
        "kind": "instance",
        "name": "natgw-us-central1",
        "action": "create"
      },
      {
        "kind": "route",
        "name": "natgw-us-central1-default",
        "action": "create"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > provision again --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zone": "us-central1-a",
  "machineType": "e2-small",
  "architecture": "X86_64",
  "image": "debian-cloud/debian-13",
  "bootDiskType": "pd-balanced",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "upToDate": true,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-ip",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "instance",
      "name": "natgw-us-central1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [],
  "warnings": [
    "single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "applied": []
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > status --json 1`] = `
exit 0
--- stdout
{
  "command": "status",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": true,
  "natIp": "203.0.113.1",
  "address": {
    "name": "natgw-us-central1-ip",
    "address": "203.0.113.1",
    "status": "IN_USE",
    "labels": {
      "managed-by": "natgw",
      "natgw-gateway": "natgw-us-central1"
    },
    "labelFingerprint": "AwWYpM9mxnDI",
    "users": [
      "https://www.googleapis.com/compute/v1/projects/test-project/zones/us-central1-a/instances/natgw-us-central1"
    ]
  },
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": true,
      "sourceRanges": [
        "10.10.0.0/20",
        "10.20.0.0/16",
        "10.30.0.0/20",
        "10.40.0.0/24"
      ],
      "allowed": [
        {
          "IPProtocol": "all"
        }
      ],
      "targetTags": [
        "natgw-us-central1"
      ]
    },
    {
      "name": "natgw-us-central1-health",
      "present": true,
      "sourceRanges": [
        "35.191.0.0/16",
        "130.211.0.0/22"
      ],
      "allowed": [
        {
          "IPProtocol": "tcp",
          "ports": [
            "9731"
          ]
        }
      ],
      "targetTags": [
        "natgw-us-central1"
      ]
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    }
  ],
  "instance": {
    "name": "natgw-us-central1",
    "zone": "us-central1-a",
    "status": "RUNNING",
    "machineType": "e2-small",
    "internalIp": "10.10.0.2",
    "natIp": "203.0.113.1",
    "agentVersion": "0.1.0"
  },
  "health": "ok",
  "route": {
    "name": "natgw-us-central1-default",
    "network": "https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default",
    "destRange": "0.0.0.0/0",
    "priority": 800,
    "tags": [
      "natgw-us-central1-client"
    ],
    "nextHopInstance": "zones/us-central1-a/instances/natgw-us-central1",
    "description": "natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1",
    "warnings": []
  },
  "warnings": [],
  "servingPath": {
    "path": "natgw",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (--json) > status after destroy --json 1`] = `
exit 3
--- stdout
{
  "command": "status",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": false,
  "natIp": null,
  "address": null,
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": false
    },
    {
      "name": "natgw-us-central1-health",
      "present": false
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    }
  ],
  "instance": null,
  "health": null,
  "route": null,
  "warnings": [],
  "servingPath": {
    "path": "none",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  - route    natgw-us-central1-default  delete
  - instance natgw-us-central1          delete
  - firewall natgw-us-central1-clients  delete
  - firewall natgw-us-central1-health   delete
  - address  natgw-us-central1-ip       delete
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute instances delete natgw-us-central1 --project test-project --zone us-central1-a --quiet
  gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet
  gcloud compute addresses delete natgw-us-central1-ip --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > destroy --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  - route    natgw-us-central1-default  delete
  - instance natgw-us-central1          delete
  - firewall natgw-us-central1-clients  delete
  - firewall natgw-us-central1-health   delete
  - address  natgw-us-central1-ip       delete
Destroyed 5 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > destroy again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  nothing of it exists
Nothing to destroy.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > provision --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  + address  natgw-us-central1-ip       create
  + firewall natgw-us-central1-clients  create
  + firewall natgw-us-central1-health   create
  + instance natgw-us-central1          create
  + route    natgw-us-central1-default  create  (created once the agent reports healthy)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\''s /healthz'
  gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt
  # once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > provision 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  + address  natgw-us-central1-ip       create
  + firewall natgw-us-central1-clients  create
  + firewall natgw-us-central1-health   create
  + instance natgw-us-central1          create
  + route    natgw-us-central1-default  create  (created once the agent reports healthy)


Done. NAT IP 203.0.113.1. VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > provision again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address  natgw-us-central1-ip       unchanged
  = firewall natgw-us-central1-clients  unchanged
  = firewall natgw-us-central1-health   unchanged
  = instance natgw-us-central1          unchanged
  = route    natgw-us-central1-default  unchanged

Up to date: nothing to do. NAT IP 203.0.113.1
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1): serving
  address   natgw-us-central1-ip            203.0.113.1 (IN_USE)
  firewall  natgw-us-central1-clients       10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 → all
  firewall  natgw-us-central1-health        35.191.0.0/16,130.211.0.0/22 → tcp:9731
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  instance  natgw-us-central1               RUNNING in us-central1-a, e2-small, internal 10.10.0.2, NAT IP 203.0.113.1, agent 0.1.0
  agent     health                          ok
  route     natgw-us-central1-default       0.0.0.0/0 → zones/us-central1-a/instances/natgw-us-central1, tags natgw-us-central1-client, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > single: provision plan and apply, a second run, status, destroy (text) > status after destroy 1`] = `
exit 3
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1): not provisioned
  address   natgw-us-central1-ip            absent
  firewall  natgw-us-central1-clients       absent
  firewall  natgw-us-central1-health        absent
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  instance  natgw-us-central1               absent
  agent     health                          absent
  route     natgw-us-central1-default       absent
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: plans that change a provisioned gateway > --machine-type e2-medium --iap-ssh --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  + firewall       natgw-us-central1-iap-ssh      create
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  + template       natgw-us-central1-tmpl-T1  create
  ~ mig            natgw-us-central1-mig-a        update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-a         replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ~ mig            natgw-us-central1-mig-b        update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-b         replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged
  - template       natgw-us-central1-tmpl-T2  delete  (superseded; deleted once no VM group uses it)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules create natgw-us-central1-iap-ssh --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:22 --source-ranges 35.235.240.0/20 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; SSH to the NAT VM through Identity-Aware Proxy only'
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-medium --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig-a --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig-b --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet
  # first the standby (b); before the next step wait until natgw-us-central1-VM@us-central1-b is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' and its guest attribute natgw/sync shows "resynced": true ('gcloud compute instances get-guest-attributes natgw-us-central1-VM@us-central1-b --zone us-central1-b --query-path natgw/'):
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig-b --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace
  # then the primary (a); before the next step wait until natgw-us-central1-VM@us-central1-a is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' and its guest attribute natgw/sync shows "resynced": true ('gcloud compute instances get-guest-attributes natgw-us-central1-VM@us-central1-a --zone us-central1-a --query-path natgw/'):
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig-a --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > stateful: plans that change a provisioned gateway > --machine-type e2-medium --iap-ssh 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  + firewall       natgw-us-central1-iap-ssh      create
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  + template       natgw-us-central1-tmpl-T1  create
  ~ mig            natgw-us-central1-mig-a        update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-a         replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ~ mig            natgw-us-central1-mig-b        update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-b         replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged
  - template       natgw-us-central1-tmpl-T2  delete  (superseded; deleted once no VM group uses it)


Done. NAT IP (allow-list it): 203.0.113.1. Healthy backends: none reported yet.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr; their connections survive the loss of one NAT VM.
Check on your project (GCE behaviour Google does not document): on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > stateful: plans that change a provisioned gateway > --machine-type e2-medium --json (up to date) 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "stateful",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b"
  ],
  "members": [
    {
      "member": "a",
      "role": "primary",
      "zone": "us-central1-a",
      "mig": "natgw-us-central1-mig-a",
      "vm": "natgw-us-central1-VM@us-central1-a",
      "internalIp": "10.10.0.2",
      "ports": "1024-33279"
    },
    {
      "member": "b",
      "role": "failover",
      "zone": "us-central1-b",
      "mig": "natgw-us-central1-mig-b",
      "vm": "natgw-us-central1-VM@us-central1-b",
      "internalIp": "10.10.0.3",
      "ports": "33280-65535"
    }
  ],
  "natIp": "203.0.113.1",
  "machineType": "e2-medium",
  "image": "debian-cloud/debian-13",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "healthyThreshold": 2,
      "unhealthyThreshold": 1,
      "requestPath": "/healthz/hold/850"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 4,
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "userCheck": "on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)",
  "docs": "docs/stateful-ha.md",
  "upToDate": true,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "unchanged",
      "diffs": [],
      "note": "10.10.0.2"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "unchanged",
      "diffs": [],
      "note": "10.10.0.3"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-iap-ssh",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "unchanged",
      "diffs": [],
      "note": "primary in us-central1-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "unchanged",
      "diffs": [],
      "note": "failover in us-central1-b"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [],
  "warnings": [
    "stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.",
    "stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route)."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "applied": []
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: plans that change a provisioned gateway > a firewall update --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24, 10.99.0.0/16
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  ~ firewall       natgw-us-central1-clients      update
        sourceRanges: 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 → 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-iap-ssh      unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  + template       natgw-us-central1-tmpl-T1  create
  ~ mig            natgw-us-central1-mig-a        update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-a         replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ~ mig            natgw-us-central1-mig-b        update  (new template: VMs are replaced one at a time, each drained first)
        instanceTemplate: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  ± vm             natgw-us-central1-VM@us-central1-b         replace  (standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next)
        template: natgw-us-central1-tmpl-T2 → natgw-us-central1-tmpl-T1
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged
  - template       natgw-us-central1-tmpl-T2  delete  (superseded; deleted once no VM group uses it)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute firewall-rules update natgw-us-central1-clients --project test-project --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24,10.99.0.0/16 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-medium --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig-a --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  gcloud compute instance-groups managed set-instance-template natgw-us-central1-mig-b --project test-project --region us-central1 --template natgw-us-central1-tmpl-T1
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T2 --project test-project --quiet
  # first the standby (b); before the next step wait until natgw-us-central1-VM@us-central1-b is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' and its guest attribute natgw/sync shows "resynced": true ('gcloud compute instances get-guest-attributes natgw-us-central1-VM@us-central1-b --zone us-central1-b --query-path natgw/'):
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig-b --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-b --minimal-action replace --most-disruptive-allowed-action replace
  # then the primary (a); before the next step wait until natgw-us-central1-VM@us-central1-a is HEALTHY in 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' and its guest attribute natgw/sync shows "resynced": true ('gcloud compute instances get-guest-attributes natgw-us-central1-VM@us-central1-a --zone us-central1-a --query-path natgw/'):
  gcloud compute instance-groups managed update-instances natgw-us-central1-mig-a --project test-project --region us-central1 --instances natgw-us-central1-VM@us-central1-a --minimal-action replace --most-disruptive-allowed-action replace
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > stateful: plans that change a provisioned gateway > plain --ha over stateful 1`] = `
exit 1
--- stdout
--- stderr (warnings, notes, errors)
natgw provision: gateway natgw-us-central1 runs in stateful HA mode (managed instance group natgw-us-central1-mig-a); switching to HA without --stateful is not done in place: run 'natgw destroy' for it first (its NAT IP goes away), or keep it and add --stateful

`

exports[`test/provision-golden.test.ts > TAP > stateful: plans that change a provisioned gateway > single over stateful 1`] = `
exit 1
--- stdout
--- stderr (warnings, notes, errors)
natgw provision: gateway natgw-us-central1 runs in HA mode (managed instance group natgw-us-central1-mig-a); switching to single mode is not done in place: run 'natgw destroy' for it first (its NAT IPs go away), then provision without --ha, or keep it and add --ha

`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > destroy --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "destroy",
  "mode": "ha",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "changes": [
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "delete",
      "diffs": [],
      "note": "with its VMs natgw-us-central1-VM@us-central1-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "delete",
      "diffs": [],
      "note": "with its VMs natgw-us-central1-VM@us-central1-b"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "delete",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute routes delete natgw-us-central1-default --project test-project --quiet",
    "gcloud compute forwarding-rules delete natgw-us-central1-nat-fr --project test-project --region us-central1 --quiet",
    "gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet",
    "gcloud compute backend-services delete natgw-us-central1-nlb --project test-project --region us-central1 --quiet",
    "gcloud compute backend-services delete natgw-us-central1-ilb --project test-project --region us-central1 --quiet",
    "gcloud compute instance-groups managed delete natgw-us-central1-mig-a --project test-project --region us-central1 --quiet",
    "gcloud compute instance-groups managed delete natgw-us-central1-mig-b --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-lb --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-heal --project test-project --region us-central1 --quiet",
    "gcloud compute instance-templates delete natgw-us-central1-tmpl-T1 --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-sync --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-return --project test-project --quiet",
    "gcloud compute addresses delete natgw-us-central1-sync-a --project test-project --region us-central1 --quiet",
    "gcloud compute addresses delete natgw-us-central1-sync-b --project test-project --region us-central1 --quiet",
    "gcloud compute addresses delete natgw-us-central1-nat-ip --project test-project --region us-central1 --quiet"
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > destroy --yes --json 1`] = `
exit 0
--- stdout
{
  "command": "destroy",
  "mode": "ha",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "changes": [
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "delete",
      "diffs": [],
      "note": "with its VMs natgw-us-central1-VM@us-central1-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "delete",
      "diffs": [],
      "note": "with its VMs natgw-us-central1-VM@us-central1-b"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "delete",
      "diffs": []
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "delete",
      "diffs": []
    }
  ],
  "gcloud": [
    "gcloud compute routes delete natgw-us-central1-default --project test-project --quiet",
    "gcloud compute forwarding-rules delete natgw-us-central1-nat-fr --project test-project --region us-central1 --quiet",
    "gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet",
    "gcloud compute backend-services delete natgw-us-central1-nlb --project test-project --region us-central1 --quiet",
    "gcloud compute backend-services delete natgw-us-central1-ilb --project test-project --region us-central1 --quiet",
    "gcloud compute instance-groups managed delete natgw-us-central1-mig-a --project test-project --region us-central1 --quiet",
    "gcloud compute instance-groups managed delete natgw-us-central1-mig-b --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-lb --project test-project --region us-central1 --quiet",
    "gcloud compute health-checks delete natgw-us-central1-hc-heal --project test-project --region us-central1 --quiet",
    "gcloud compute instance-templates delete natgw-us-central1-tmpl-T1 --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-sync --project test-project --quiet",
    "gcloud compute firewall-rules delete natgw-us-central1-return --project test-project --quiet",
    "gcloud compute addresses delete natgw-us-central1-sync-a --project test-project --region us-central1 --quiet",
    "gcloud compute addresses delete natgw-us-central1-sync-b --project test-project --region us-central1 --quiet",
    "gcloud compute addresses delete natgw-us-central1-nat-ip --project test-project --region us-central1 --quiet"
  ],
  "result": {
    "applied": [
      {
        "kind": "route",
        "name": "natgw-us-central1-default",
        "action": "delete"
      },
      {
        "kind": "forwardingRule",
        "name": "natgw-us-central1-nat-fr",
        "action": "delete"
      },
      {
        "kind": "forwardingRule",
        "name": "natgw-us-central1-fr",
        "action": "delete"
      },
      {
        "kind": "backendService",
        "name": "natgw-us-central1-nlb",
        "action": "delete"
      },
      {
        "kind": "backendService",
        "name": "natgw-us-central1-ilb",
        "action": "delete"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig-a",
        "action": "delete"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig-b",
        "action": "delete"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-lb",
        "action": "delete"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-heal",
        "action": "delete"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T1",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-health",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-sync",
        "action": "delete"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-return",
        "action": "delete"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-sync-a",
        "action": "delete"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-sync-b",
        "action": "delete"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-nat-ip",
        "action": "delete"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > provision --dry-run --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "stateful",
  "dryRun": true,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b"
  ],
  "members": [
    {
      "member": "a",
      "role": "primary",
      "zone": "us-central1-a",
      "mig": "natgw-us-central1-mig-a",
      "vm": "natgw-us-central1-kdnb",
      "internalIp": null,
      "ports": "1024-33279"
    },
    {
      "member": "b",
      "role": "failover",
      "zone": "us-central1-b",
      "mig": "natgw-us-central1-mig-b",
      "vm": "natgw-us-central1-2lkt",
      "internalIp": null,
      "ports": "33280-65535"
    }
  ],
  "natIp": null,
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "healthyThreshold": 2,
      "unhealthyThreshold": 1,
      "requestPath": "/healthz/hold/850"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 4,
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "userCheck": "on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md)",
  "docs": "docs/stateful-ha.md",
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "create",
      "diffs": [],
      "note": "EXTERNAL: the one NAT IP to allow-list"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "create",
      "diffs": [],
      "note": "INTERNAL: nic0 of NAT VM a, sync peer"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "create",
      "diffs": [],
      "note": "INTERNAL: nic0 of NAT VM b, sync peer"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "create",
      "diffs": [],
      "note": "/healthz/hold/850 every 1s"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "create",
      "diffs": [],
      "note": "/livez every 10s"
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-a"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-kdnb",
      "action": "create",
      "diffs": [],
      "note": "primary in us-central1-a, IP from natgw-us-central1-sync-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-b"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-2lkt",
      "action": "create",
      "diffs": [],
      "note": "failover in us-central1-b, IP from natgw-us-central1-sync-b"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once a load-balancer backend is healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-nat-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the one NAT IP of stateful gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-nat-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-sync-a --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM a of stateful gateway natgw-us-central1 (state sync peer)'",
    "gcloud compute addresses update natgw-us-central1-sync-a --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-sync-b --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM b of stateful gateway natgw-us-central1 (state sync peer)'",
    "gcloud compute addresses update natgw-us-central1-sync-b --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22,209.85.152.0/22,209.85.204.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks (internal and external load balancer) may reach the natgw agent'\\\\''s /healthz and /livez'",
    "gcloud compute firewall-rules create natgw-us-central1-sync --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules udp:3780,tcp:9731 --source-tags natgw-us-central1 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; connection-state sync (conntrackd) and flow counts between the NAT VMs of gateway natgw-us-central1 only'",
    "gcloud compute firewall-rules create natgw-us-central1-return --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:1024-9730,tcp:9732-65535,udp:1024-3779,udp:3781-65535,icmp --source-ranges 0.0.0.0/0 --destination-ranges $(gcloud compute addresses describe natgw-us-central1-nat-ip --project test-project --region us-central1 --format='value(address)')/32 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; replies to the shared NAT IP of gateway natgw-us-central1 reach whichever NAT VM holds the flows'",
    "gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz/hold/850 --check-interval 1s --timeout 1s --healthy-threshold 2 --unhealthy-threshold 1 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'",
    "gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed create natgw-us-central1-mig-a --project test-project --region us-central1 --zones us-central1-a --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-a --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM a (primary) of stateful gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig-a --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig-a --project test-project --region us-central1 --instance natgw-us-central1-kdnb --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-a,auto-delete=never",
    "gcloud compute instance-groups managed create natgw-us-central1-mig-b --project test-project --region us-central1 --zones us-central1-b --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-b --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM b (failover) of stateful gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig-b --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig-b --project test-project --region us-central1 --instance natgw-us-central1-2lkt --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-b,auto-delete=never",
    "gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer (next hop, a active / b standby) of stateful gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover",
    "gcloud compute backend-services create natgw-us-central1-nlb --project test-project --region us-central1 --load-balancing-scheme external --protocol UNSPECIFIED --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; external passthrough load balancer holding the NAT IP (a active / b standby) of stateful gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover",
    "gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'",
    "gcloud compute forwarding-rules create natgw-us-central1-nat-fr --project test-project --region us-central1 --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb --backend-service-region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the NAT IP of stateful gateway natgw-us-central1: replies to it reach the active NAT VM'",
    "# once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.",
    "stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route)."
  ]
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > provision --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "stateful",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b"
  ],
  "members": [
    {
      "member": "a",
      "role": "primary",
      "zone": "us-central1-a",
      "mig": "natgw-us-central1-mig-a",
      "vm": "natgw-us-central1-VM@us-central1-a",
      "internalIp": null,
      "ports": "1024-33279"
    },
    {
      "member": "b",
      "role": "failover",
      "zone": "us-central1-b",
      "mig": "natgw-us-central1-mig-b",
      "vm": "natgw-us-central1-VM@us-central1-b",
      "internalIp": null,
      "ports": "33280-65535"
    }
  ],
  "natIp": "203.0.113.1",
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "healthyThreshold": 2,
      "unhealthyThreshold": 1,
      "requestPath": "/healthz/hold/850"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 4,
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "userCheck": "on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)",
  "docs": "docs/stateful-ha.md",
  "upToDate": false,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "create",
      "diffs": [],
      "note": "EXTERNAL: the one NAT IP to allow-list"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "create",
      "diffs": [],
      "note": "INTERNAL: nic0 of NAT VM a, sync peer"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "create",
      "diffs": [],
      "note": "INTERNAL: nic0 of NAT VM b, sync peer"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "create",
      "diffs": [],
      "note": "/healthz/hold/850 every 1s"
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "create",
      "diffs": [],
      "note": "/livez every 10s"
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-a"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "create",
      "diffs": [],
      "note": "primary in us-central1-a, IP from natgw-us-central1-sync-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "create",
      "diffs": [],
      "note": "zones us-central1-b"
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "create",
      "diffs": [],
      "note": "failover in us-central1-b, IP from natgw-us-central1-sync-b"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "create",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "create",
      "diffs": [],
      "note": "created once a load-balancer backend is healthy"
    }
  ],
  "gcloud": [
    "gcloud compute addresses create natgw-us-central1-nat-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the one NAT IP of stateful gateway natgw-us-central1'",
    "gcloud compute addresses update natgw-us-central1-nat-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-sync-a --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM a of stateful gateway natgw-us-central1 (state sync peer)'",
    "gcloud compute addresses update natgw-us-central1-sync-a --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute addresses create natgw-us-central1-sync-b --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM b of stateful gateway natgw-us-central1 (state sync peer)'",
    "gcloud compute addresses update natgw-us-central1-sync-b --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1",
    "gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'",
    "gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22,209.85.152.0/22,209.85.204.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks (internal and external load balancer) may reach the natgw agent'\\\\''s /healthz and /livez'",
    "gcloud compute firewall-rules create natgw-us-central1-sync --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules udp:3780,tcp:9731 --source-tags natgw-us-central1 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; connection-state sync (conntrackd) and flow counts between the NAT VMs of gateway natgw-us-central1 only'",
    "gcloud compute firewall-rules create natgw-us-central1-return --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:1024-9730,tcp:9732-65535,udp:1024-3779,udp:3781-65535,icmp --source-ranges 0.0.0.0/0 --destination-ranges $(gcloud compute addresses describe natgw-us-central1-nat-ip --project test-project --region us-central1 --format='value(address)')/32 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; replies to the shared NAT IP of gateway natgw-us-central1 reach whichever NAT VM holds the flows'",
    "gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz/hold/850 --check-interval 1s --timeout 1s --healthy-threshold 2 --unhealthy-threshold 1 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'",
    "gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'",
    "gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'",
    "gcloud compute instance-groups managed create natgw-us-central1-mig-a --project test-project --region us-central1 --zones us-central1-a --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-a --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM a (primary) of stateful gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig-a --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig-a --project test-project --region us-central1 --instance natgw-us-central1-VM@us-central1-a --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-a,auto-delete=never",
    "gcloud compute instance-groups managed create natgw-us-central1-mig-b --project test-project --region us-central1 --zones us-central1-b --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-b --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM b (failover) of stateful gateway natgw-us-central1'",
    "gcloud compute instance-groups managed update natgw-us-central1-mig-b --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none",
    "gcloud compute instance-groups managed create-instance natgw-us-central1-mig-b --project test-project --region us-central1 --instance natgw-us-central1-VM@us-central1-b --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-b,auto-delete=never",
    "gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer (next hop, a active / b standby) of stateful gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover",
    "gcloud compute backend-services create natgw-us-central1-nlb --project test-project --region us-central1 --load-balancing-scheme external --protocol UNSPECIFIED --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; external passthrough load balancer holding the NAT IP (a active / b standby) of stateful gateway natgw-us-central1'",
    "gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection",
    "gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover",
    "gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'",
    "gcloud compute forwarding-rules create natgw-us-central1-nat-fr --project test-project --region us-central1 --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb --backend-service-region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the NAT IP of stateful gateway natgw-us-central1: replies to it reach the active NAT VM'",
    "# once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:",
    "gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'"
  ],
  "warnings": [
    "stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.",
    "stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route)."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "healthy": [
      "natgw-us-central1-VM@us-central1-a",
      "natgw-us-central1-VM@us-central1-b"
    ],
    "applied": [
      {
        "kind": "address",
        "name": "natgw-us-central1-nat-ip",
        "action": "create"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-sync-a",
        "action": "create"
      },
      {
        "kind": "address",
        "name": "natgw-us-central1-sync-b",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-clients",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-health",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-sync",
        "action": "create"
      },
      {
        "kind": "firewall",
        "name": "natgw-us-central1-return",
        "action": "create"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-lb",
        "action": "create"
      },
      {
        "kind": "healthCheck",
        "name": "natgw-us-central1-hc-heal",
        "action": "create"
      },
      {
        "kind": "template",
        "name": "natgw-us-central1-tmpl-T2",
        "action": "create"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig-a",
        "action": "create"
      },
      {
        "kind": "mig",
        "name": "natgw-us-central1-mig-b",
        "action": "create"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-a",
        "action": "create"
      },
      {
        "kind": "vm",
        "name": "natgw-us-central1-VM@us-central1-b",
        "action": "create"
      },
      {
        "kind": "backendService",
        "name": "natgw-us-central1-ilb",
        "action": "create"
      },
      {
        "kind": "backendService",
        "name": "natgw-us-central1-nlb",
        "action": "create"
      },
      {
        "kind": "forwardingRule",
        "name": "natgw-us-central1-fr",
        "action": "create"
      },
      {
        "kind": "forwardingRule",
        "name": "natgw-us-central1-nat-fr",
        "action": "create"
      },
      {
        "kind": "route",
        "name": "natgw-us-central1-default",
        "action": "create"
      }
    ]
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > provision again --json 1`] = `
exit 0
--- stdout
{
  "command": "provision",
  "mode": "stateful",
  "dryRun": false,
  "project": "test-project",
  "region": "us-central1",
  "network": "default",
  "gateway": "natgw-us-central1",
  "zones": [
    "us-central1-a",
    "us-central1-b"
  ],
  "members": [
    {
      "member": "a",
      "role": "primary",
      "zone": "us-central1-a",
      "mig": "natgw-us-central1-mig-a",
      "vm": "natgw-us-central1-VM@us-central1-a",
      "internalIp": "10.10.0.2",
      "ports": "1024-33279"
    },
    {
      "member": "b",
      "role": "failover",
      "zone": "us-central1-b",
      "mig": "natgw-us-central1-mig-b",
      "vm": "natgw-us-central1-VM@us-central1-b",
      "internalIp": "10.10.0.3",
      "ports": "33280-65535"
    }
  ],
  "natIp": "203.0.113.1",
  "machineType": "e2-small",
  "image": "debian-cloud/debian-13",
  "clientTag": "natgw-us-central1-client",
  "sourceRanges": [
    "10.10.0.0/20",
    "10.20.0.0/16",
    "10.30.0.0/20",
    "10.40.0.0/24"
  ],
  "preflight": {
    "problems": [],
    "warnings": [],
    "notes": [
      "organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created."
    ]
  },
  "healthChecks": {
    "traffic": {
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "healthyThreshold": 2,
      "unhealthyThreshold": 1,
      "requestPath": "/healthz/hold/850"
    },
    "autoheal": {
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "healthyThreshold": 2,
      "unhealthyThreshold": 3,
      "requestPath": "/livez",
      "initialDelaySec": 300
    }
  },
  "drainSeconds": 4,
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "userCheck": "on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)",
  "docs": "docs/stateful-ha.md",
  "upToDate": true,
  "changes": [
    {
      "kind": "address",
      "name": "natgw-us-central1-nat-ip",
      "action": "unchanged",
      "diffs": [],
      "note": "203.0.113.1"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-a",
      "action": "unchanged",
      "diffs": [],
      "note": "10.10.0.2"
    },
    {
      "kind": "address",
      "name": "natgw-us-central1-sync-b",
      "action": "unchanged",
      "diffs": [],
      "note": "10.10.0.3"
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-clients",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-health",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-sync",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "firewall",
      "name": "natgw-us-central1-return",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-lb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "healthCheck",
      "name": "natgw-us-central1-hc-heal",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "template",
      "name": "natgw-us-central1-tmpl-T1",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-a",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-a",
      "action": "unchanged",
      "diffs": [],
      "note": "primary in us-central1-a"
    },
    {
      "kind": "mig",
      "name": "natgw-us-central1-mig-b",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "vm",
      "name": "natgw-us-central1-VM@us-central1-b",
      "action": "unchanged",
      "diffs": [],
      "note": "failover in us-central1-b"
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-ilb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "backendService",
      "name": "natgw-us-central1-nlb",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "forwardingRule",
      "name": "natgw-us-central1-nat-fr",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-default",
      "action": "unchanged",
      "diffs": []
    }
  ],
  "gcloud": [],
  "warnings": [
    "stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.",
    "stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route)."
  ],
  "result": {
    "natIp": "203.0.113.1",
    "applied": []
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > status --json 1`] = `
exit 0
--- stdout
{
  "command": "status",
  "mode": "stateful",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": true,
  "syncOk": true,
  "natIp": "203.0.113.1",
  "active": {
    "ilb": "a",
    "nlb": "a"
  },
  "backends": [
    {
      "member": "a",
      "name": "natgw-us-central1-VM@us-central1-a",
      "zone": "us-central1-a",
      "status": "RUNNING",
      "template": "natgw-us-central1-tmpl-T1",
      "internalIp": "10.10.0.2",
      "ilb": "HEALTHY",
      "nlb": "HEALTHY",
      "agent": "ok",
      "sync": {
        "peerUp": true,
        "resynced": true,
        "role": "standby"
      },
      "role": "active"
    },
    {
      "member": "b",
      "name": "natgw-us-central1-VM@us-central1-b",
      "zone": "us-central1-b",
      "status": "RUNNING",
      "template": "natgw-us-central1-tmpl-T1",
      "internalIp": "10.10.0.3",
      "ilb": "HEALTHY",
      "nlb": "HEALTHY",
      "agent": "ok",
      "sync": {
        "peerUp": true,
        "resynced": true,
        "role": "standby"
      },
      "role": "standby"
    }
  ],
  "forwardingRules": [
    {
      "name": "natgw-us-central1-fr",
      "IPAddress": "10.10.0.4",
      "IPProtocol": "TCP",
      "loadBalancingScheme": "INTERNAL"
    },
    {
      "name": "natgw-us-central1-nat-fr",
      "IPAddress": "203.0.113.1",
      "IPProtocol": "L3_DEFAULT",
      "loadBalancingScheme": "EXTERNAL"
    }
  ],
  "healthChecks": [
    {
      "name": "natgw-us-central1-hc-lb",
      "present": true,
      "requestPath": "/healthz/hold/850",
      "checkIntervalSec": 1,
      "timeoutSec": 1,
      "unhealthyThreshold": 1
    },
    {
      "name": "natgw-us-central1-hc-heal",
      "present": true,
      "requestPath": "/livez",
      "checkIntervalSec": 10,
      "timeoutSec": 5,
      "unhealthyThreshold": 3
    }
  ],
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": true
    },
    {
      "name": "natgw-us-central1-health",
      "present": true
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    },
    {
      "name": "natgw-us-central1-sync",
      "present": true
    },
    {
      "name": "natgw-us-central1-return",
      "present": true
    }
  ],
  "route": {
    "name": "natgw-us-central1-default",
    "destRange": "0.0.0.0/0",
    "nextHopIlb": "https://www.googleapis.com/compute/v1/projects/test-project/regions/us-central1/forwardingRules/natgw-us-central1-fr",
    "tags": [
      "natgw-us-central1-client"
    ],
    "priority": 800,
    "warnings": []
  },
  "undocumented": "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.",
  "warnings": [],
  "servingPath": {
    "path": "natgw",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (--json) > status after destroy --json 1`] = `
exit 3
--- stdout
{
  "command": "status",
  "project": "test-project",
  "region": "us-central1",
  "gateway": "natgw-us-central1",
  "serving": false,
  "natIp": null,
  "address": null,
  "firewalls": [
    {
      "name": "natgw-us-central1-clients",
      "present": false
    },
    {
      "name": "natgw-us-central1-health",
      "present": false
    },
    {
      "name": "natgw-us-central1-iap-ssh",
      "present": false
    },
    {
      "name": "natgw-us-central1-allow-metrics",
      "present": false
    }
  ],
  "instance": null,
  "health": null,
  "route": null,
  "warnings": [],
  "servingPath": {
    "path": "none",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-default      delete
  - forwardingRule natgw-us-central1-nat-fr       delete
  - forwardingRule natgw-us-central1-fr           delete
  - backendService natgw-us-central1-nlb          delete
  - backendService natgw-us-central1-ilb          delete
  - mig            natgw-us-central1-mig-a        delete  (with its VMs natgw-us-central1-VM@us-central1-a)
  - mig            natgw-us-central1-mig-b        delete  (with its VMs natgw-us-central1-VM@us-central1-b)
  - healthCheck    natgw-us-central1-hc-lb        delete
  - healthCheck    natgw-us-central1-hc-heal      delete
  - template       natgw-us-central1-tmpl-T1  delete
  - firewall       natgw-us-central1-clients      delete
  - firewall       natgw-us-central1-health       delete
  - firewall       natgw-us-central1-sync         delete
  - firewall       natgw-us-central1-return       delete
  - address        natgw-us-central1-sync-a       delete
  - address        natgw-us-central1-sync-b       delete
  - address        natgw-us-central1-nat-ip       delete
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute forwarding-rules delete natgw-us-central1-nat-fr --project test-project --region us-central1 --quiet
  gcloud compute forwarding-rules delete natgw-us-central1-fr --project test-project --region us-central1 --quiet
  gcloud compute backend-services delete natgw-us-central1-nlb --project test-project --region us-central1 --quiet
  gcloud compute backend-services delete natgw-us-central1-ilb --project test-project --region us-central1 --quiet
  gcloud compute instance-groups managed delete natgw-us-central1-mig-a --project test-project --region us-central1 --quiet
  gcloud compute instance-groups managed delete natgw-us-central1-mig-b --project test-project --region us-central1 --quiet
  gcloud compute health-checks delete natgw-us-central1-hc-lb --project test-project --region us-central1 --quiet
  gcloud compute health-checks delete natgw-us-central1-hc-heal --project test-project --region us-central1 --quiet
  gcloud compute instance-templates delete natgw-us-central1-tmpl-T1 --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-sync --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-return --project test-project --quiet
  gcloud compute addresses delete natgw-us-central1-sync-a --project test-project --region us-central1 --quiet
  gcloud compute addresses delete natgw-us-central1-sync-b --project test-project --region us-central1 --quiet
  gcloud compute addresses delete natgw-us-central1-nat-ip --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > destroy --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-default      delete
  - forwardingRule natgw-us-central1-nat-fr       delete
  - forwardingRule natgw-us-central1-fr           delete
  - backendService natgw-us-central1-nlb          delete
  - backendService natgw-us-central1-ilb          delete
  - mig            natgw-us-central1-mig-a        delete  (with its VMs natgw-us-central1-VM@us-central1-a)
  - mig            natgw-us-central1-mig-b        delete  (with its VMs natgw-us-central1-VM@us-central1-b)
  - healthCheck    natgw-us-central1-hc-lb        delete
  - healthCheck    natgw-us-central1-hc-heal      delete
  - template       natgw-us-central1-tmpl-T1  delete
  - firewall       natgw-us-central1-clients      delete
  - firewall       natgw-us-central1-health       delete
  - firewall       natgw-us-central1-sync         delete
  - firewall       natgw-us-central1-return       delete
  - address        natgw-us-central1-sync-a       delete
  - address        natgw-us-central1-sync-b       delete
  - address        natgw-us-central1-nat-ip       delete
Destroyed 17 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > destroy again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  nothing of it exists
Nothing to destroy.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > provision --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  + address        natgw-us-central1-nat-ip       create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a       create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b       create  (INTERNAL: nic0 of NAT VM b, sync peer)
  + firewall       natgw-us-central1-clients      create
  + firewall       natgw-us-central1-health       create
  + firewall       natgw-us-central1-sync         create
  + firewall       natgw-us-central1-return       create
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz/hold/850 every 1s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig-a        create  (zones us-central1-a)
  + vm             natgw-us-central1-kdnb         create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b        create  (zones us-central1-b)
  + vm             natgw-us-central1-2lkt         create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  + backendService natgw-us-central1-ilb          create
  + backendService natgw-us-central1-nlb          create
  + forwardingRule natgw-us-central1-fr           create
  + forwardingRule natgw-us-central1-nat-fr       create
  + route          natgw-us-central1-default      create  (created once a load-balancer backend is healthy)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-nat-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the one NAT IP of stateful gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-nat-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute addresses create natgw-us-central1-sync-a --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM a of stateful gateway natgw-us-central1 (state sync peer)'
  gcloud compute addresses update natgw-us-central1-sync-a --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute addresses create natgw-us-central1-sync-b --project test-project --region us-central1 --subnet apps --purpose GCE_ENDPOINT --description 'natgw-gateway=natgw-us-central1; internal IP of NAT VM b of stateful gateway natgw-us-central1 (state sync peer)'
  gcloud compute addresses update natgw-us-central1-sync-b --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22,209.85.152.0/22,209.85.204.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks (internal and external load balancer) may reach the natgw agent'\\''s /healthz and /livez'
  gcloud compute firewall-rules create natgw-us-central1-sync --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules udp:3780,tcp:9731 --source-tags natgw-us-central1 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; connection-state sync (conntrackd) and flow counts between the NAT VMs of gateway natgw-us-central1 only'
  gcloud compute firewall-rules create natgw-us-central1-return --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:1024-9730,tcp:9732-65535,udp:1024-3779,udp:3781-65535,icmp --source-ranges 0.0.0.0/0 --destination-ranges $(gcloud compute addresses describe natgw-us-central1-nat-ip --project test-project --region us-central1 --format='value(address)')/32 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; replies to the shared NAT IP of gateway natgw-us-central1 reach whichever NAT VM holds the flows'
  gcloud compute health-checks create http natgw-us-central1-hc-lb --project test-project --region us-central1 --port 9731 --request-path /healthz/hold/850 --check-interval 1s --timeout 1s --healthy-threshold 2 --unhealthy-threshold 1 --description 'natgw-gateway=natgw-us-central1; load-balancer health of NAT gateway natgw-us-central1: agent /healthz (egress probe, draining)'
  gcloud compute health-checks create http natgw-us-central1-hc-heal --project test-project --region us-central1 --port 9731 --request-path /livez --check-interval 10s --timeout 5s --healthy-threshold 2 --unhealthy-threshold 3 --description 'natgw-gateway=natgw-us-central1; autohealing of NAT gateway natgw-us-central1: agent /livez (alive, ruleset, forwarding)'
  gcloud compute instance-templates create natgw-us-central1-tmpl-T1 --project test-project --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --region us-central1 --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt --description 'natgw-gateway=natgw-us-central1; NAT VM template of gateway natgw-us-central1'
  gcloud compute instance-groups managed create natgw-us-central1-mig-a --project test-project --region us-central1 --zones us-central1-a --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-a --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM a (primary) of stateful gateway natgw-us-central1'
  gcloud compute instance-groups managed update natgw-us-central1-mig-a --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig-a --project test-project --region us-central1 --instance natgw-us-central1-kdnb --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-a,auto-delete=never
  gcloud compute instance-groups managed create natgw-us-central1-mig-b --project test-project --region us-central1 --zones us-central1-b --template natgw-us-central1-tmpl-T1 --size 0 --base-instance-name natgw-us-central1-b --health-check projects/test-project/regions/us-central1/healthChecks/natgw-us-central1-hc-heal --initial-delay 300s --stateful-internal-ip interface-name=nic0,auto-delete=never --description 'natgw-gateway=natgw-us-central1; NAT VM b (failover) of stateful gateway natgw-us-central1'
  gcloud compute instance-groups managed update natgw-us-central1-mig-b --project test-project --region us-central1 --update-policy-type opportunistic --update-policy-minimal-action replace --update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none
  gcloud compute instance-groups managed create-instance natgw-us-central1-mig-b --project test-project --region us-central1 --instance natgw-us-central1-2lkt --stateful-internal-ip interface-name=nic0,address=projects/test-project/regions/us-central1/addresses/natgw-us-central1-sync-b,auto-delete=never
  gcloud compute backend-services create natgw-us-central1-ilb --project test-project --region us-central1 --load-balancing-scheme internal --protocol tcp --network default --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; internal passthrough load balancer (next hop, a active / b standby) of stateful gateway natgw-us-central1'
  gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection
  gcloud compute backend-services add-backend natgw-us-central1-ilb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover
  gcloud compute backend-services create natgw-us-central1-nlb --project test-project --region us-central1 --load-balancing-scheme external --protocol UNSPECIFIED --health-checks natgw-us-central1-hc-lb --health-checks-region us-central1 --connection-draining-timeout 4s --failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST --description 'natgw-gateway=natgw-us-central1; external passthrough load balancer holding the NAT IP (a active / b standby) of stateful gateway natgw-us-central1'
  gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-a --instance-group-region us-central1 --balancing-mode connection
  gcloud compute backend-services add-backend natgw-us-central1-nlb --project test-project --region us-central1 --instance-group natgw-us-central1-mig-b --instance-group-region us-central1 --balancing-mode connection --failover
  gcloud compute forwarding-rules create natgw-us-central1-fr --project test-project --region us-central1 --load-balancing-scheme internal --ip-protocol TCP --ports ALL --backend-service natgw-us-central1-ilb --backend-service-region us-central1 --network default --subnet apps --description 'natgw-gateway=natgw-us-central1; next hop of the 0.0.0.0/0 route of NAT gateway natgw-us-central1'
  gcloud compute forwarding-rules create natgw-us-central1-nat-fr --project test-project --region us-central1 --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb --backend-service-region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; the NAT IP of stateful gateway natgw-us-central1: replies to it reach the active NAT VM'
  # once 'gcloud compute backend-services get-health natgw-us-central1-ilb --project test-project --region us-central1' shows a HEALTHY backend:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through HA NAT gateway natgw-us-central1'
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > provision 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  + address        natgw-us-central1-nat-ip       create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a       create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b       create  (INTERNAL: nic0 of NAT VM b, sync peer)
  + firewall       natgw-us-central1-clients      create
  + firewall       natgw-us-central1-health       create
  + firewall       natgw-us-central1-sync         create
  + firewall       natgw-us-central1-return       create
  + healthCheck    natgw-us-central1-hc-lb        create  (/healthz/hold/850 every 1s)
  + healthCheck    natgw-us-central1-hc-heal      create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1  create
  + mig            natgw-us-central1-mig-a        create  (zones us-central1-a)
  + vm             natgw-us-central1-VM@us-central1-a         create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b        create  (zones us-central1-b)
  + vm             natgw-us-central1-VM@us-central1-b         create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  + backendService natgw-us-central1-ilb          create
  + backendService natgw-us-central1-nlb          create
  + forwardingRule natgw-us-central1-fr           create
  + forwardingRule natgw-us-central1-nat-fr       create
  + route          natgw-us-central1-default      create  (created once a load-balancer backend is healthy)


Done. NAT IP (allow-list it): 203.0.113.1. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr; their connections survive the loss of one NAT VM.
Check on your project (GCE behaviour Google does not document): on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > provision again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip       unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a       unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b       unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients      unchanged
  = firewall       natgw-us-central1-health       unchanged
  = firewall       natgw-us-central1-sync         unchanged
  = firewall       natgw-us-central1-return       unchanged
  = healthCheck    natgw-us-central1-hc-lb        unchanged
  = healthCheck    natgw-us-central1-hc-heal      unchanged
  = template       natgw-us-central1-tmpl-T1  unchanged
  = mig            natgw-us-central1-mig-a        unchanged
  = vm             natgw-us-central1-VM@us-central1-a         unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b        unchanged
  = vm             natgw-us-central1-VM@us-central1-b         unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb          unchanged
  = backendService natgw-us-central1-nlb          unchanged
  = forwardingRule natgw-us-central1-fr           unchanged
  = forwardingRule natgw-us-central1-nat-fr       unchanged
  = route          natgw-us-central1-default      unchanged

Up to date: nothing to do. NAT IP 203.0.113.1
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful; project test-project, region us-central1): serving (2/2 NAT VMs healthy, state synced)
  NAT IP    203.0.113.1
  vm a      natgw-us-central1-VM@us-central1-a          ACTIVE — ilb HEALTHY, nlb HEALTHY (RUNNING in us-central1-a, 10.10.0.2; agent: ok; sync peer up, resynced)
  vm b      natgw-us-central1-VM@us-central1-b          STANDBY — ilb HEALTHY, nlb HEALTHY (RUNNING in us-central1-b, 10.10.0.3; agent: ok; sync peer up, resynced)
  check     natgw-us-central1-hc-lb         /healthz/hold/850 every 1s, timeout 1s, unhealthy after 1
  check     natgw-us-central1-hc-heal       /livez every 10s, timeout 5s, unhealthy after 3
  lb        natgw-us-central1-fr            10.10.0.4 TCP → natgw-us-central1-ilb
  lb        natgw-us-central1-nat-fr        203.0.113.1 L3_DEFAULT → natgw-us-central1-nlb
  firewall  natgw-us-central1-clients       present
  firewall  natgw-us-central1-health        present
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  firewall  natgw-us-central1-sync          present
  firewall  natgw-us-central1-return        present
  route     natgw-us-central1-default       0.0.0.0/0 → regions/us-central1/forwardingRules/natgw-us-central1-fr, tags natgw-us-central1-client, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-golden.test.ts > TAP > stateful: provision plan and apply, a second run, status, destroy (text) > status after destroy 1`] = `
exit 3
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1): not provisioned
  address   natgw-us-central1-ip            absent
  firewall  natgw-us-central1-clients       absent
  firewall  natgw-us-central1-health        absent
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  instance  natgw-us-central1               absent
  agent     health                          absent
  route     natgw-us-central1-default       absent
--- stderr (warnings, notes, errors)


`
