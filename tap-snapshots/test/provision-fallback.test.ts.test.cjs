/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/provision-fallback.test.ts > TAP > a reused router keeps what is not natgw’s; a changed setting patches only natgw’s NAT config; destroy takes only it away > reused router: a changed setting --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address   natgw-us-central1-ip                    unchanged
  = firewall  natgw-us-central1-clients               unchanged
  = firewall  natgw-us-central1-health                unchanged
  ~ instance  natgw-us-central1                       update
        metadata.natgw-config: {"sourceRanges":…(63 chars) → {"sourceRanges":…(85 chars)
  = route     natgw-us-central1-default               unchanged
  = router    corp-router                             keep  (the network's Cloud Router in this region, not natgw's: natgw adds only its NAT config to it)
  ~ routerNat corp-router/natgw-us-central1-fallback  update
        udpIdleTimeoutSec: 30 → 60
  = route     natgw-us-central1-probe                 unchanged

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute instances add-metadata natgw-us-central1 --project test-project --zone us-central1-a --metadata-from-file natgw-config=natgw-config.txt,…
  gcloud compute routers nats update natgw-us-central1-fallback --router corp-router --project test-project --region us-central1 --auto-allocate-nat-external-ips --nat-custom-subnet-ip-ranges apps:ALL --min-ports-per-vm 64 --udp-idle-timeout 60s --icmp-idle-timeout 30s --tcp-established-idle-timeout 1200s --tcp-transitory-idle-timeout 30s --tcp-time-wait-timeout 120s --enable-logging --log-filter ALL
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > a reused router keeps what is not natgw’s; a changed setting patches only natgw’s NAT config; destroy takes only it away > reused router: destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  - route     natgw-us-central1-probe                 delete
  - route     natgw-us-central1-default               delete
  - instance  natgw-us-central1                       delete
  - firewall  natgw-us-central1-clients               delete
  - firewall  natgw-us-central1-health                delete
  - address   natgw-us-central1-ip                    delete
  - routerNat corp-router/natgw-us-central1-fallback  delete
  = router    corp-router                             keep  (not created by natgw: only its NAT config is removed)
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-probe --project test-project --quiet
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute instances delete natgw-us-central1 --project test-project --zone us-central1-a --quiet
  gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet
  gcloud compute addresses delete natgw-us-central1-ip --project test-project --region us-central1 --quiet
  gcloud compute routers nats delete natgw-us-central1-fallback --router corp-router --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > a reused router keeps what is not natgw’s; a changed setting patches only natgw’s NAT config; destroy takes only it away > reused router: provision --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  + address   natgw-us-central1-ip                    create
  + firewall  natgw-us-central1-clients               create
  + firewall  natgw-us-central1-health                create
  + instance  natgw-us-central1                       create
  + route     natgw-us-central1-default               create  (created once the agent reports healthy)
  = router    corp-router                             keep  (the network's Cloud Router in this region, not natgw's: natgw adds only its NAT config to it)
  + routerNat corp-router/natgw-us-central1-fallback  create
  + route     natgw-us-central1-probe                 create  (created after the client route)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\''s /healthz'
  gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt
  # once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'
  gcloud compute routers nats create natgw-us-central1-fallback --router corp-router --project test-project --region us-central1 --auto-allocate-nat-external-ips --nat-custom-subnet-ip-ranges apps:ALL --min-ports-per-vm 64 --udp-idle-timeout 30s --icmp-idle-timeout 30s --tcp-established-idle-timeout 1200s --tcp-transitory-idle-timeout 30s --tcp-time-wait-timeout 120s --enable-logging --log-filter ALL
  gcloud compute routes create natgw-us-central1-probe --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-probe --priority 800 --description 'natgw-gateway=natgw-us-central1; natgw-client-tag=natgw-us-central1-client; egress probe of NAT gateway natgw-us-central1: VMs tagged natgw-us-central1-probe always leave through it (the fallback never moves this route)'
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > a reused router keeps what is not natgw’s; a changed setting patches only natgw’s NAT config; destroy takes only it away > reused router: status 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1): serving
  address   natgw-us-central1-ip            203.0.113.1 (IN_USE)
  firewall  natgw-us-central1-clients       10.10.0.0/20,10.20.0.0/16,10.30.0.0/20 → all
  firewall  natgw-us-central1-health        35.191.0.0/16,130.211.0.0/22 → tcp:9731
  firewall  natgw-us-central1-iap-ssh       absent
  firewall  natgw-us-central1-allow-metrics absent
  instance  natgw-us-central1               RUNNING in us-central1-a, e2-small, internal 10.10.0.2, NAT IP 203.0.113.1, agent 0.1.0
  agent     health                          ok
  route     natgw-us-central1-default       0.0.0.0/0 → zones/us-central1-a/instances/natgw-us-central1, tags natgw-us-central1-client, priority 800
  fallback  natgw-us-central1-fallback      Cloud NAT on router corp-router (reused, not natgw’s): auto-allocated IPs, custom-subnet-ip-ranges apps:ALL, 64 ports/VM, logging ALL
  probe     natgw-us-central1-probe         0.0.0.0/0 → zones/us-central1-a/instances/natgw-us-central1, tags natgw-us-central1-probe, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-probe        delete
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
  - router         natgw-us-central1-router       delete  (with its NAT config natgw-us-central1-fallback)
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-probe --project test-project --quiet
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
  gcloud compute routers delete natgw-us-central1-router --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > destroy --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-probe        delete
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
  - router         natgw-us-central1-router       delete  (with its NAT config natgw-us-central1-fallback)
Destroyed 13 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  + address        natgw-us-central1-ip-1                               create
  + address        natgw-us-central1-ip-2                               create
  + firewall       natgw-us-central1-clients                            create
  + firewall       natgw-us-central1-health                             create
  + healthCheck    natgw-us-central1-hc-lb                              create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal                            create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1                        create
  + mig            natgw-us-central1-mig                                create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-keqk                               create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-varw                               create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb                                create
  + forwardingRule natgw-us-central1-fr                                 create
  + route          natgw-us-central1-default                            create  (created once a load-balancer backend is healthy)
  + router         natgw-us-central1-router                             create
  + routerNat      natgw-us-central1-router/natgw-us-central1-fallback  create
  + route          natgw-us-central1-probe                              create  (created after the client route)

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
  gcloud compute routers create natgw-us-central1-router --project test-project --region us-central1 --network default --description 'natgw-gateway=natgw-us-central1; Cloud Router for the Cloud NAT fallback of NAT gateway natgw-us-central1'
  gcloud compute routers nats create natgw-us-central1-fallback --router natgw-us-central1-router --project test-project --region us-central1 --auto-allocate-nat-external-ips --nat-all-subnet-ip-ranges --min-ports-per-vm 64 --udp-idle-timeout 30s --icmp-idle-timeout 30s --tcp-established-idle-timeout 1200s --tcp-transitory-idle-timeout 30s --tcp-time-wait-timeout 120s --enable-logging --log-filter ALL
  gcloud compute routes create natgw-us-central1-probe --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-probe --priority 800 --description 'natgw-gateway=natgw-us-central1; natgw-client-tag=natgw-us-central1-client; egress probe of NAT gateway natgw-us-central1: VMs tagged natgw-us-central1-probe always leave through it (the fallback never moves this route)'
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  + address        natgw-us-central1-ip-1                               create
  + address        natgw-us-central1-ip-2                               create
  + firewall       natgw-us-central1-clients                            create
  + firewall       natgw-us-central1-health                             create
  + healthCheck    natgw-us-central1-hc-lb                              create  (/healthz every 2s)
  + healthCheck    natgw-us-central1-hc-heal                            create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1                        create
  + mig            natgw-us-central1-mig                                create  (zones us-central1-a, us-central1-b, us-central1-c)
  + vm             natgw-us-central1-VM@us-central1-a                               create  (NAT IP from natgw-us-central1-ip-1)
  + vm             natgw-us-central1-VM@us-central1-b                               create  (NAT IP from natgw-us-central1-ip-2)
  + backendService natgw-us-central1-ilb                                create
  + forwardingRule natgw-us-central1-fr                                 create
  + route          natgw-us-central1-default                            create  (created once a load-balancer backend is healthy)
  + router         natgw-us-central1-router                             create
  + routerNat      natgw-us-central1-router/natgw-us-central1-fallback  create
  + route          natgw-us-central1-probe                              create  (created after the client route)


Done. NAT IPs (allow-list all of them): 203.0.113.1, 203.0.113.2. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat again --json 1`] = `
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
    },
    {
      "kind": "router",
      "name": "natgw-us-central1-router",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "routerNat",
      "name": "natgw-us-central1-router/natgw-us-central1-fallback",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-probe",
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

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA): project test-project, region us-central1, 2 NAT VMs over us-central1-a, us-central1-b, us-central1-c, network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24

Plan:
  = address        natgw-us-central1-ip-1                               unchanged  (203.0.113.1)
  = address        natgw-us-central1-ip-2                               unchanged  (203.0.113.2)
  = firewall       natgw-us-central1-clients                            unchanged
  = firewall       natgw-us-central1-health                             unchanged
  = healthCheck    natgw-us-central1-hc-lb                              unchanged
  = healthCheck    natgw-us-central1-hc-heal                            unchanged
  = template       natgw-us-central1-tmpl-T1                        unchanged
  = mig            natgw-us-central1-mig                                unchanged
  = vm             natgw-us-central1-VM@us-central1-a                               unchanged  (us-central1-a, NAT IP from natgw-us-central1-ip-1)
  = vm             natgw-us-central1-VM@us-central1-b                               unchanged  (us-central1-b, NAT IP from natgw-us-central1-ip-2)
  = backendService natgw-us-central1-ilb                                unchanged
  = forwardingRule natgw-us-central1-fr                                 unchanged
  = route          natgw-us-central1-default                            unchanged
  = router         natgw-us-central1-router                             unchanged
  = routerNat      natgw-us-central1-router/natgw-us-central1-fallback  unchanged
  = route          natgw-us-central1-probe                              unchanged

Up to date: nothing to do. NAT IPs 203.0.113.1, 203.0.113.2
--- stderr (warnings, notes, errors)
note: HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.
note: HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status --json 1`] = `
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
  "fallback": {
    "nats": [
      {
        "router": "natgw-us-central1-router",
        "routerCreatedByNatgw": true,
        "network": "default",
        "name": "natgw-us-central1-fallback",
        "natIpAllocateOption": "AUTO_ONLY",
        "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
        "minPortsPerVm": 64,
        "logFilter": "ALL",
        "text": "auto-allocated IPs, all-subnet-ip-ranges, 64 ports/VM, logging ALL"
      }
    ],
    "probeRoute": {
      "name": "natgw-us-central1-probe",
      "tags": [
        "natgw-us-central1-probe"
      ],
      "nextHop": "regions/us-central1/forwardingRules/natgw-us-central1-fr",
      "priority": 800
    }
  },
  "warnings": [],
  "servingPath": {
    "path": "natgw",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status 1`] = `
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
  fallback  natgw-us-central1-fallback      Cloud NAT on router natgw-us-central1-router (natgw's): auto-allocated IPs, all-subnet-ip-ranges, 64 ports/VM, logging ALL
  probe     natgw-us-central1-probe         0.0.0.0/0 → regions/us-central1/forwardingRules/natgw-us-central1-fr, tags natgw-us-central1-probe, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > ha: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status after destroy 1`] = `
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

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  - route    natgw-us-central1-probe    delete
  - route    natgw-us-central1-default  delete
  - instance natgw-us-central1          delete
  - firewall natgw-us-central1-clients  delete
  - firewall natgw-us-central1-health   delete
  - address  natgw-us-central1-ip       delete
  - router   natgw-us-central1-router   delete  (with its NAT config natgw-us-central1-fallback)
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-probe --project test-project --quiet
  gcloud compute routes delete natgw-us-central1-default --project test-project --quiet
  gcloud compute instances delete natgw-us-central1 --project test-project --zone us-central1-a --quiet
  gcloud compute firewall-rules delete natgw-us-central1-clients --project test-project --quiet
  gcloud compute firewall-rules delete natgw-us-central1-health --project test-project --quiet
  gcloud compute addresses delete natgw-us-central1-ip --project test-project --region us-central1 --quiet
  gcloud compute routers delete natgw-us-central1-router --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > destroy --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (project test-project, region us-central1):
  - route    natgw-us-central1-probe    delete
  - route    natgw-us-central1-default  delete
  - instance natgw-us-central1          delete
  - firewall natgw-us-central1-clients  delete
  - firewall natgw-us-central1-health   delete
  - address  natgw-us-central1-ip       delete
  - router   natgw-us-central1-router   delete  (with its NAT config natgw-us-central1-fallback)
Destroyed 7 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  + address   natgw-us-central1-ip                                 create
  + firewall  natgw-us-central1-clients                            create
  + firewall  natgw-us-central1-health                             create
  + instance  natgw-us-central1                                    create
  + route     natgw-us-central1-default                            create  (created once the agent reports healthy)
  + router    natgw-us-central1-router                             create
  + routerNat natgw-us-central1-router/natgw-us-central1-fallback  create
  + route     natgw-us-central1-probe                              create  (created after the client route)

Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute addresses create natgw-us-central1-ip --project test-project --region us-central1 --network-tier PREMIUM --description 'natgw-gateway=natgw-us-central1; NAT IP of gateway natgw-us-central1'
  gcloud compute addresses update natgw-us-central1-ip --project test-project --region us-central1 --update-labels managed-by=natgw,natgw-gateway=natgw-us-central1
  gcloud compute firewall-rules create natgw-us-central1-clients --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules all --source-ranges 10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; clients of NAT gateway natgw-us-central1 may send any traffic to it'
  gcloud compute firewall-rules create natgw-us-central1-health --project test-project --network default --direction INGRESS --action ALLOW --priority 1000 --rules tcp:9731 --source-ranges 35.191.0.0/16,130.211.0.0/22 --target-tags natgw-us-central1 --description 'natgw-gateway=natgw-us-central1; Google health checks may reach the natgw agent'\\''s /healthz'
  gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small --image-family debian-13 --image-project debian-cloud --boot-disk-size 10GB --boot-disk-type pd-balanced --subnet apps --address natgw-us-central1-ip --network-tier PREMIUM --can-ip-forward --tags natgw-us-central1 --labels managed-by=natgw,natgw-gateway=natgw-us-central1 --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata enable-guest-attributes=TRUE,enable-oslogin=TRUE,block-project-ssh-keys=TRUE --metadata-from-file natgw-config=natgw-config.txt,startup-script=startup-script.txt,natgw-agent-0=natgw-agent-0.txt,natgw-agent-sha256=natgw-agent-sha256.txt,natgw-agent-version=natgw-agent-version.txt
  # once 'gcloud compute instances get-guest-attributes natgw-us-central1 --zone us-central1-a --query-path natgw/health' says ok:
  gcloud compute routes create natgw-us-central1-default --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800 --description 'natgw-gateway=natgw-us-central1; internet egress of VMs tagged natgw-us-central1-client through NAT gateway natgw-us-central1'
  gcloud compute routers create natgw-us-central1-router --project test-project --region us-central1 --network default --description 'natgw-gateway=natgw-us-central1; Cloud Router for the Cloud NAT fallback of NAT gateway natgw-us-central1'
  gcloud compute routers nats create natgw-us-central1-fallback --router natgw-us-central1-router --project test-project --region us-central1 --auto-allocate-nat-external-ips --nat-all-subnet-ip-ranges --min-ports-per-vm 64 --udp-idle-timeout 30s --icmp-idle-timeout 30s --tcp-established-idle-timeout 1200s --tcp-transitory-idle-timeout 30s --tcp-time-wait-timeout 120s --enable-logging --log-filter ALL
  gcloud compute routes create natgw-us-central1-probe --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-probe --priority 800 --description 'natgw-gateway=natgw-us-central1; natgw-client-tag=natgw-us-central1-client; egress probe of NAT gateway natgw-us-central1: VMs tagged natgw-us-central1-probe always leave through it (the fallback never moves this route)'
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  + address   natgw-us-central1-ip                                 create
  + firewall  natgw-us-central1-clients                            create
  + firewall  natgw-us-central1-health                             create
  + instance  natgw-us-central1                                    create
  + route     natgw-us-central1-default                            create  (created once the agent reports healthy)
  + router    natgw-us-central1-router                             create
  + routerNat natgw-us-central1-router/natgw-us-central1-fallback  create
  + route     natgw-us-central1-probe                              create  (created after the client route)


Done. NAT IP 203.0.113.1. VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1.
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat again --json 1`] = `
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
    },
    {
      "kind": "router",
      "name": "natgw-us-central1-router",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "routerNat",
      "name": "natgw-us-central1-router/natgw-us-central1-fallback",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-probe",
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

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1: project test-project, region us-central1 (VM in us-central1-a), network default
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
NAT VM: e2-small (X86_64), image debian-cloud/debian-13, boot disk pd-balanced

Plan:
  = address   natgw-us-central1-ip                                 unchanged
  = firewall  natgw-us-central1-clients                            unchanged
  = firewall  natgw-us-central1-health                             unchanged
  = instance  natgw-us-central1                                    unchanged
  = route     natgw-us-central1-default                            unchanged
  = router    natgw-us-central1-router                             unchanged
  = routerNat natgw-us-central1-router/natgw-us-central1-fallback  unchanged
  = route     natgw-us-central1-probe                              unchanged

Up to date: nothing to do. NAT IP 203.0.113.1
--- stderr (warnings, notes, errors)
warning: single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back (GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status --json 1`] = `
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
  "fallback": {
    "nats": [
      {
        "router": "natgw-us-central1-router",
        "routerCreatedByNatgw": true,
        "network": "default",
        "name": "natgw-us-central1-fallback",
        "natIpAllocateOption": "AUTO_ONLY",
        "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
        "minPortsPerVm": 64,
        "logFilter": "ALL",
        "text": "auto-allocated IPs, all-subnet-ip-ranges, 64 ports/VM, logging ALL"
      }
    ],
    "probeRoute": {
      "name": "natgw-us-central1-probe",
      "tags": [
        "natgw-us-central1-probe"
      ],
      "nextHop": "zones/us-central1-a/instances/natgw-us-central1",
      "priority": 800
    }
  },
  "warnings": [],
  "servingPath": {
    "path": "natgw",
    "since": null
  }
}
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status 1`] = `
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
  fallback  natgw-us-central1-fallback      Cloud NAT on router natgw-us-central1-router (natgw's): auto-allocated IPs, all-subnet-ip-ranges, 64 ports/VM, logging ALL
  probe     natgw-us-central1-probe         0.0.0.0/0 → zones/us-central1-a/instances/natgw-us-central1, tags natgw-us-central1-probe, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > single: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status after destroy 1`] = `
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

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > destroy --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-probe        delete
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
  - router         natgw-us-central1-router       delete  (with its NAT config natgw-us-central1-fallback)
Equivalent gcloud commands (dry run, nothing was changed):
  gcloud compute routes delete natgw-us-central1-probe --project test-project --quiet
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
  gcloud compute routers delete natgw-us-central1-router --project test-project --region us-central1 --quiet
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > destroy --yes 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA; project test-project, region us-central1):
  - route          natgw-us-central1-probe        delete
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
  - router         natgw-us-central1-router       delete  (with its NAT config natgw-us-central1-fallback)
Destroyed 19 resources of natgw-us-central1.
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat --dry-run 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  + address        natgw-us-central1-nat-ip                             create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a                             create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b                             create  (INTERNAL: nic0 of NAT VM b, sync peer)
  + firewall       natgw-us-central1-clients                            create
  + firewall       natgw-us-central1-health                             create
  + firewall       natgw-us-central1-sync                               create
  + firewall       natgw-us-central1-return                             create
  + healthCheck    natgw-us-central1-hc-lb                              create  (/healthz/hold/850 every 1s)
  + healthCheck    natgw-us-central1-hc-heal                            create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1                        create
  + mig            natgw-us-central1-mig-a                              create  (zones us-central1-a)
  + vm             natgw-us-central1-kdnb                               create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b                              create  (zones us-central1-b)
  + vm             natgw-us-central1-2lkt                               create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  + backendService natgw-us-central1-ilb                                create
  + backendService natgw-us-central1-nlb                                create
  + forwardingRule natgw-us-central1-fr                                 create
  + forwardingRule natgw-us-central1-nat-fr                             create
  + route          natgw-us-central1-default                            create  (created once a load-balancer backend is healthy)
  + router         natgw-us-central1-router                             create
  + routerNat      natgw-us-central1-router/natgw-us-central1-fallback  create
  + route          natgw-us-central1-probe                              create  (created after the client route)

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
  gcloud compute routers create natgw-us-central1-router --project test-project --region us-central1 --network default --description 'natgw-gateway=natgw-us-central1; Cloud Router for the Cloud NAT fallback of NAT gateway natgw-us-central1'
  gcloud compute routers nats create natgw-us-central1-fallback --router natgw-us-central1-router --project test-project --region us-central1 --auto-allocate-nat-external-ips --nat-all-subnet-ip-ranges --min-ports-per-vm 64 --udp-idle-timeout 30s --icmp-idle-timeout 30s --tcp-established-idle-timeout 1200s --tcp-transitory-idle-timeout 30s --tcp-time-wait-timeout 120s --enable-logging --log-filter ALL
  gcloud compute routes create natgw-us-central1-probe --project test-project --network default --destination-range 0.0.0.0/0 --next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1 --tags natgw-us-central1-probe --priority 800 --description 'natgw-gateway=natgw-us-central1; natgw-client-tag=natgw-us-central1-client; egress probe of NAT gateway natgw-us-central1: VMs tagged natgw-us-central1-probe always leave through it (the fallback never moves this route)'
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP (reserved as natgw-us-central1-nat-ip on apply); connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface NAT_IP https://checkip.amazonaws.com' must print NAT_IP; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  + address        natgw-us-central1-nat-ip                             create  (EXTERNAL: the one NAT IP to allow-list)
  + address        natgw-us-central1-sync-a                             create  (INTERNAL: nic0 of NAT VM a, sync peer)
  + address        natgw-us-central1-sync-b                             create  (INTERNAL: nic0 of NAT VM b, sync peer)
  + firewall       natgw-us-central1-clients                            create
  + firewall       natgw-us-central1-health                             create
  + firewall       natgw-us-central1-sync                               create
  + firewall       natgw-us-central1-return                             create
  + healthCheck    natgw-us-central1-hc-lb                              create  (/healthz/hold/850 every 1s)
  + healthCheck    natgw-us-central1-hc-heal                            create  (/livez every 10s)
  + template       natgw-us-central1-tmpl-T1                        create
  + mig            natgw-us-central1-mig-a                              create  (zones us-central1-a)
  + vm             natgw-us-central1-VM@us-central1-a                               create  (primary in us-central1-a, IP from natgw-us-central1-sync-a)
  + mig            natgw-us-central1-mig-b                              create  (zones us-central1-b)
  + vm             natgw-us-central1-VM@us-central1-b                               create  (failover in us-central1-b, IP from natgw-us-central1-sync-b)
  + backendService natgw-us-central1-ilb                                create
  + backendService natgw-us-central1-nlb                                create
  + forwardingRule natgw-us-central1-fr                                 create
  + forwardingRule natgw-us-central1-nat-fr                             create
  + route          natgw-us-central1-default                            create  (created once a load-balancer backend is healthy)
  + router         natgw-us-central1-router                             create
  + routerNat      natgw-us-central1-router/natgw-us-central1-fallback  create
  + route          natgw-us-central1-probe                              create  (created after the client route)


Done. NAT IP (allow-list it): 203.0.113.1. Healthy backends: natgw-us-central1-VM@us-central1-a, natgw-us-central1-VM@us-central1-b.
VMs without an external IP that carry the network tag 'natgw-us-central1-client' now reach the internet through natgw-us-central1-fr; their connections survive the loss of one NAT VM.
Check on your project (GCE behaviour Google does not document): on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md)
Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags natgw-us-central1-client --project test-project
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat again --json 1`] = `
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
    },
    {
      "kind": "router",
      "name": "natgw-us-central1-router",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "routerNat",
      "name": "natgw-us-central1-router/natgw-us-central1-fallback",
      "action": "unchanged",
      "diffs": []
    },
    {
      "kind": "route",
      "name": "natgw-us-central1-probe",
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

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > provision --fallback cloud-nat again 1`] = `
exit 0
--- stdout
Gateway natgw-us-central1 (HA, stateful): project test-project, region us-central1, network default
NAT VMs: a (primary) in us-central1-a, b (failover) in us-central1-b; one NAT IP 203.0.113.1; connection state synced on udp/3780
Clients: VMs tagged 'natgw-us-central1-client' in 10.10.0.0/20, 10.20.0.0/16, 10.30.0.0/20, 10.40.0.0/24
Relies on: stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.
Check it on your project: on a NAT VM, 'curl -s --interface 203.0.113.1 https://checkip.amazonaws.com' must print 203.0.113.1; if it does not, do not use --stateful (docs/stateful-ha.md). Details: docs/stateful-ha.md

Plan:
  = address        natgw-us-central1-nat-ip                             unchanged  (203.0.113.1)
  = address        natgw-us-central1-sync-a                             unchanged  (10.10.0.2)
  = address        natgw-us-central1-sync-b                             unchanged  (10.10.0.3)
  = firewall       natgw-us-central1-clients                            unchanged
  = firewall       natgw-us-central1-health                             unchanged
  = firewall       natgw-us-central1-sync                               unchanged
  = firewall       natgw-us-central1-return                             unchanged
  = healthCheck    natgw-us-central1-hc-lb                              unchanged
  = healthCheck    natgw-us-central1-hc-heal                            unchanged
  = template       natgw-us-central1-tmpl-T1                        unchanged
  = mig            natgw-us-central1-mig-a                              unchanged
  = vm             natgw-us-central1-VM@us-central1-a                               unchanged  (primary in us-central1-a)
  = mig            natgw-us-central1-mig-b                              unchanged
  = vm             natgw-us-central1-VM@us-central1-b                               unchanged  (failover in us-central1-b)
  = backendService natgw-us-central1-ilb                                unchanged
  = backendService natgw-us-central1-nlb                                unchanged
  = forwardingRule natgw-us-central1-fr                                 unchanged
  = forwardingRule natgw-us-central1-nat-fr                             unchanged
  = route          natgw-us-central1-default                            unchanged
  = router         natgw-us-central1-router                             unchanged
  = routerNat      natgw-us-central1-router/natgw-us-central1-fallback  unchanged
  = route          natgw-us-central1-probe                              unchanged

Up to date: nothing to do. NAT IP 203.0.113.1
--- stderr (warnings, notes, errors)
note: stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.
note: stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).
note: organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs (constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.

`

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status --json 1`] = `
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
  "fallback": {
    "nats": [
      {
        "router": "natgw-us-central1-router",
        "routerCreatedByNatgw": true,
        "network": "default",
        "name": "natgw-us-central1-fallback",
        "natIpAllocateOption": "AUTO_ONLY",
        "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
        "minPortsPerVm": 64,
        "logFilter": "ALL",
        "text": "auto-allocated IPs, all-subnet-ip-ranges, 64 ports/VM, logging ALL"
      }
    ],
    "probeRoute": {
      "name": "natgw-us-central1-probe",
      "tags": [
        "natgw-us-central1-probe"
      ],
      "nextHop": "regions/us-central1/forwardingRules/natgw-us-central1-fr",
      "priority": 800
    }
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

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status 1`] = `
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
  fallback  natgw-us-central1-fallback      Cloud NAT on router natgw-us-central1-router (natgw's): auto-allocated IPs, all-subnet-ip-ranges, 64 ports/VM, logging ALL
  probe     natgw-us-central1-probe         0.0.0.0/0 → regions/us-central1/forwardingRules/natgw-us-central1-fr, tags natgw-us-central1-probe, priority 800
  path      serving clients                 natgw
--- stderr (warnings, notes, errors)


`

exports[`test/provision-fallback.test.ts > TAP > stateful: provision --fallback cloud-nat, a second run, status, destroy (text and --json) > status after destroy 1`] = `
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
