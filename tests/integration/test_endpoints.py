"""Global endpoints through boto3: CreateEndpoint, DescribeEndpoint, ListEndpoints,
UpdateEndpoint, DeleteEndpoint, and PutEvents with an EndpointId landing on the primary Region's
bus (copied to the secondary with replication), or on the secondary's while the admin switch
(POST /_localbridge/endpoints/health) marks the primary unhealthy. boto3 sends an EndpointId call
signed with SigV4a to the endpoint_url it was given, which needs the awscrt package."""
import json
import re

import botocore.exceptions

from lbharness import DaemonTestCase

ClientError = botocore.exceptions.ClientError
HC = "arn:aws:route53:::healthcheck/0a1b2c3d-hc"
ROLE = "arn:aws:iam::000000000000:role/replication"


def bus_arn(region, name):
    return "arn:aws:events:%s:000000000000:event-bus/%s" % (region, name)


def config(name, bus="orders", secondary="us-west-2", **extra):
    cfg = {"Name": name,
           "RoutingConfig": {"FailoverConfig": {"Primary": {"HealthCheck": HC},
                                                "Secondary": {"Route": secondary}}},
           "EventBuses": [{"EventBusArn": bus_arn("us-east-1", bus)},
                          {"EventBusArn": bus_arn(secondary, bus)}],
           "RoleArn": ROLE}
    cfg.update(extra)
    return cfg


class Endpoints(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for region in ("us-east-1", "us-west-2"):
            cls.daemon.client(region).create_event_bus(Name="orders")

    def events_in(self, region, bus="orders"):
        status, _, data = self.daemon.request(
            "GET", "/_localbridge/events?bus=%s&region=%s&limit=100" % (bus, region))
        self.assertEqual(status, 200, data)
        return json.loads(data)["Events"]

    def health(self, name, healthy):
        status, _, data = self.daemon.admin_post("/_localbridge/endpoints/health",
                                                 json.dumps({"Name": name, "Healthy": healthy}))
        self.assertEqual(status, 200, data)
        return json.loads(data)

    def test_lifecycle(self):
        c = self.events_client
        r = c.create_endpoint(Description="first", **config("ep-life"))
        self.assertEqual(r["State"], "CREATING")
        self.assertEqual(r["Arn"], "arn:aws:events:us-east-1:000000000000:endpoint/ep-life")
        self.assertEqual(r["ReplicationConfig"], {"State": "ENABLED"})
        d = c.describe_endpoint(Name="ep-life")
        self.assertEqual((d["Name"], d["Description"], d["State"], d["RoleArn"]),
                         ("ep-life", "first", "ACTIVE", ROLE))
        self.assertRegex(d["EndpointId"], r"^[a-z0-9]{5}\.[a-z0-9]{3}$")
        self.assertEqual(d["EndpointUrl"],
                         "https://%s.endpoint.events.amazonaws.com" % d["EndpointId"])
        self.assertEqual(d["EventBuses"], config("ep-life")["EventBuses"])
        self.assertEqual(d["RoutingConfig"], config("ep-life")["RoutingConfig"])
        self.assertIn("CreationTime", d)
        self.assertIn("LastModifiedTime", d)
        self.assertEqual(c.describe_endpoint(Name="ep-life", HomeRegion="us-east-1")["Arn"],
                         d["Arn"])
        u = c.update_endpoint(Name="ep-life", Description="second",
                              ReplicationConfig={"State": "DISABLED"})
        self.assertEqual((u["State"], u["EndpointId"]), ("UPDATING", d["EndpointId"]))
        d2 = c.describe_endpoint(Name="ep-life")
        self.assertEqual((d2["Description"], d2["ReplicationConfig"]["State"]),
                         ("second", "DISABLED"))
        c.delete_endpoint(Name="ep-life")
        with self.assertRaises(ClientError) as ctx:
            c.describe_endpoint(Name="ep-life")
        self.assertAwsError(ctx, "ResourceNotFoundException", "Endpoint ep-life does not exist.")
        with self.assertRaises(ClientError) as ctx:
            c.delete_endpoint(Name="ep-life")
        self.assertAwsError(ctx, "ResourceNotFoundException", "Endpoint ep-life does not exist.")

    def test_list_and_paging(self):
        c = self.events_client
        for i in range(5):
            c.create_endpoint(**config("ep-list-%d" % i))
        names, token = [], None
        while True:
            kw = {"NamePrefix": "ep-list-", "MaxResults": 2}
            if token:
                kw["NextToken"] = token
            page = c.list_endpoints(**kw)
            names += [e["Name"] for e in page["Endpoints"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(names, ["ep-list-%d" % i for i in range(5)])
        self.assertEqual(c.list_endpoints(NamePrefix="ep-list-", HomeRegion="us-west-2")
                         ["Endpoints"], [])

    def test_validation(self):
        c = self.events_client
        c.create_endpoint(**config("ep-dup"))
        with self.assertRaises(ClientError) as ctx:
            c.create_endpoint(**config("ep-dup"))
        self.assertAwsError(ctx, "ResourceAlreadyExistsException", "Endpoint ep-dup already exists.")
        bad = [
            (dict(config("ep-bad"), EventBuses=[{"EventBusArn": bus_arn("us-east-1", "orders")}]),
             "eventBuses' failed to satisfy constraint: Member must have length greater than or "
             "equal to 2"),
            (dict(config("ep-bad"), RoutingConfig={"FailoverConfig": {
                "Primary": {"HealthCheck": "arn:aws:route53:::nothealth/x"},
                "Secondary": {"Route": "us-west-2"}}}),
             "Member must satisfy regular expression pattern: "
             "^arn:aws([a-z]|\\-)*:route53:::healthcheck/[\\-a-z0-9]+$"),
            (dict(config("ep-bad"), EventBuses=[{"EventBusArn": bus_arn("us-east-1", "a")},
                                                {"EventBusArn": bus_arn("us-west-2", "b")}]),
             "The event buses of an endpoint must have the same name in each Region."),
            (dict(config("ep-bad"), EventBuses=[{"EventBusArn": bus_arn("eu-west-1", "orders")},
                                                {"EventBusArn": bus_arn("us-west-2", "orders")}]),
             "EventBuses must hold one event bus in the endpoint's Region (us-east-1) and one in "
             "the secondary Region (us-west-2)."),
            ({k: v for k, v in config("ep-bad").items() if k != "RoleArn"},
             "RoleArn is required when event replication is ENABLED"),
            (dict(config("ep-bad"), EventBuses=[{"EventBusArn": "arn:aws:sqs:us-east-1:1:q"},
                                                {"EventBusArn": bus_arn("us-west-2", "orders")}]),
             "Value 'arn:aws:sqs:us-east-1:1:q' at 'eventBuses.1.member.eventBusArn' failed to "
             "satisfy constraint"),
        ]
        for kw, msg in bad:
            with self.subTest(msg=msg):
                status, r, _ = self.daemon.api("CreateEndpoint", kw)
                self.assertEqual((status, r["__type"]), (400, "ValidationException"), r)
                self.assertIn(msg, r["message"])
        status, r, _ = self.daemon.api("CreateEndpoint", {"Name": "ep-bad"})
        self.assertEqual(r["message"],
                         "2 validation errors detected: Value null at 'routingConfig' failed to "
                         "satisfy constraint: Member must not be null; Value null at 'eventBuses' "
                         "failed to satisfy constraint: Member must not be null")
        # Without a role, replication must be turned off.
        cfg = {k: v for k, v in config("ep-norole").items() if k != "RoleArn"}
        c.create_endpoint(ReplicationConfig={"State": "DISABLED"}, **cfg)
        with self.assertRaises(ClientError) as ctx:
            c.update_endpoint(Name="ep-norole", ReplicationConfig={"State": "ENABLED"})
        self.assertAwsError(ctx, "ValidationException")
        self.assertEqual(c.describe_endpoint(Name="ep-norole")["ReplicationConfig"]["State"],
                         "DISABLED")
        with self.assertRaises(ClientError) as ctx:
            c.update_endpoint(Name="ep-missing", Description="x")
        self.assertAwsError(ctx, "ResourceNotFoundException", "Endpoint ep-missing does not exist.")
        self.assertNotIn("ep-bad", [e["Name"] for e in c.list_endpoints()["Endpoints"]])

    def put_raw(self, endpoint_id, detail, **entry):
        body = {"EndpointId": endpoint_id,
                "Entries": [dict({"Source": "shop", "DetailType": "t",
                                  "Detail": json.dumps(detail)}, **entry)]}
        return self.daemon.api("PutEvents", body)

    def test_routing_failover_and_replication(self):
        c = self.events_client
        c.create_endpoint(**config("ep-route"))
        eid = c.describe_endpoint(Name="ep-route")["EndpointId"]
        before_east, before_west = len(self.events_in("us-east-1")), len(self.events_in("us-west-2"))
        status, r, _ = self.put_raw(eid, {"n": 1}, EventBusName="orders")
        self.assertEqual((status, r["FailedEntryCount"]), (200, 0), r)
        east, west = self.events_in("us-east-1"), self.events_in("us-west-2")
        self.assertEqual(len(east), before_east + 1)
        self.assertEqual(east[0]["id"], r["Entries"][0]["EventId"])
        self.assertEqual(east[0]["region"], "us-east-1")
        # Replication (the default): a copy on the secondary bus, in its Region.
        self.assertEqual(len(west), before_west + 1)
        self.assertEqual((west[0]["region"], west[0]["detail"]), ("us-west-2", {"n": 1}))
        # The primary is unhealthy: events go to the secondary only.
        self.assertEqual(self.health("ep-route", False),
                         {"Name": "ep-route", "HomeRegion": "us-east-1", "Healthy": False})
        status, r, _ = self.put_raw(eid, {"n": 2}, EventBusName=bus_arn("us-west-2", "orders"))
        self.assertEqual(status, 200, r)
        self.assertEqual(len(self.events_in("us-east-1")), before_east + 1)
        west = self.events_in("us-west-2")
        self.assertEqual((len(west), west[0]["id"], west[0]["detail"]),
                         (before_west + 2, r["Entries"][0]["EventId"], {"n": 2}))
        self.health("ep-route", True)
        self.put_raw(eid, {"n": 3})
        self.assertEqual(self.events_in("us-east-1")[0]["detail"], {"n": 3})
        # Replication off: the primary only.
        c.update_endpoint(Name="ep-route", ReplicationConfig={"State": "DISABLED"})
        self.put_raw(eid, {"n": 4})
        self.assertEqual(self.events_in("us-east-1")[0]["detail"], {"n": 4})
        self.assertEqual(self.events_in("us-west-2")[0]["detail"], {"n": 3})

    def test_put_events_errors(self):
        c = self.events_client
        c.create_endpoint(**config("ep-err", bus="nobus"))
        eid = c.describe_endpoint(Name="ep-err")["EndpointId"]
        status, r, _ = self.put_raw(eid, {})
        self.assertEqual((status, r["__type"], r["message"]),
                         (400, "ResourceNotFoundException", "Event bus nobus does not exist."))
        status, r, _ = self.put_raw(eid, {}, EventBusName="other")
        self.assertEqual((status, r["__type"]), (400, "ValidationException"))
        status, r, _ = self.put_raw("zzzzz.yyy", {})
        self.assertEqual((status, r["__type"], r["message"]),
                         (400, "ResourceNotFoundException",
                          "Endpoint with id zzzzz.yyy does not exist."))
        status, r, _ = self.put_raw("no_dot", {})
        self.assertEqual((status, r["__type"]), (400, "ValidationException"))
        status, _, data = self.daemon.admin_post("/_localbridge/endpoints/health",
                                                 json.dumps({"Name": "nope", "Healthy": False}))
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["__type"], "ResourceNotFoundException")
        status, _, data = self.daemon.admin_post("/_localbridge/endpoints/health",
                                                 json.dumps({"Name": "ep-err"}))
        self.assertEqual((status, json.loads(data)["__type"]), (400, "ValidationException"))

    def test_boto3_put_events_with_endpoint_id(self):
        """boto3 sends EndpointId calls to endpoint_url, signed with SigV4a (awscrt)."""
        try:
            import awscrt  # noqa: F401
        except ImportError:
            self.skipTest("awscrt is not installed: boto3 cannot sign SigV4a (see README)")
        c = self.events_client
        c.create_endpoint(**config("ep-boto"))
        eid = c.describe_endpoint(Name="ep-boto")["EndpointId"]
        r = c.put_events(EndpointId=eid, Entries=[{"Source": "boto", "DetailType": "t",
                                                   "Detail": json.dumps({"via": "sigv4a"})}])
        self.assertEqual(r["FailedEntryCount"], 0)
        ev = self.events_in("us-east-1")[0]
        self.assertEqual((ev["id"], ev["detail"]), (r["Entries"][0]["EventId"], {"via": "sigv4a"}))

    def test_aws_cli_put_events_with_endpoint_id(self):
        """Debian's AWS CLI signs with SigV4a through python3-awscrt as well."""
        c = self.events_client
        c.create_endpoint(**config("ep-cli"))
        eid = c.describe_endpoint(Name="ep-cli")["EndpointId"]
        rc, out, err = self.daemon.aws(
            "put-events", "--endpoint-id", eid, "--entries",
            json.dumps([{"Source": "cli", "DetailType": "t", "Detail": "{\"cli\":1}",
                         "EventBusName": "orders"}]))
        if rc and "botocore[crt]" in err:
            self.skipTest("the AWS CLI has no awscrt to sign SigV4a with: " + err.strip())
        self.assertEqual((rc, out["FailedEntryCount"]), (0, 0), err)
        self.assertEqual(self.events_in("us-east-1")[0]["id"], out["Entries"][0]["EventId"])

    def test_durable(self):
        c = self.events_client
        c.create_endpoint(**config("ep-durable"))
        eid = c.describe_endpoint(Name="ep-durable")["EndpointId"]
        self.health("ep-durable", False)
        self.daemon.kill9()
        self.daemon.start()
        c = type(self).events_client = self.daemon.client()
        d = c.describe_endpoint(Name="ep-durable")
        self.assertEqual(d["EndpointId"], eid)
        # Health is the health check's, not stored: healthy again after a restart.
        status, r, _ = self.put_raw(eid, {"after": "restart"})
        self.assertEqual(status, 200, r)
        self.assertEqual(self.events_in("us-east-1")[0]["detail"], {"after": "restart"})
        self.assertTrue(re.match(r"^[a-z0-9]{5}\.[a-z0-9]{3}$", eid))
