"""VideoShare on AWS, as one CloudFormation stack: the original architecture (a load balancer in
front of the web tier, an SQS queue feeding the worker tier, RDS, S3 behind CloudFront, SES, and
the Secrets Manager secret every process reads through config.conf), on ECS Fargate.

Nothing here looks anything up in an AWS account while synthesizing: the region, its zones and
every name come from the settings, so `cdk synth` runs offline.
"""

import hashlib
import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy, SecretValue, Stack, custom_resources
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from videoshare_deploy import nag
from videoshare_deploy.layout import (
    ALL_PREFIXES,
    MOVED_PREFIXES,
    ORIGINALS_PREFIX,
    PUBLIC_PREFIXES,
)
from videoshare_deploy.settings import RETENTION_DAYS, Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the repository: the image's build context

# What the image needs from the repository; the rest (tests, docs, .venv, var) stays out of
# the build context.
IMAGE_FILES = (
    "accounts",
    "api",
    "config",
    "contests",
    "videos",
    "transcoding",
    "templates",
    "static",
    "locale",
    "manage.py",
    "gunicorn.conf.py",
    "pyproject.toml",
    "deploy/aws/Dockerfile",
    "deploy/aws/runtime",
)

DATABASE_NAME = "videoshare"
DATABASE_USER = "videoshare"
WEB, WORKER, MIGRATE = "web", "worker", "migrate"
STOP_SECONDS = 120  # the longest Fargate waits between SIGTERM and SIGKILL


class VideoShareStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.roles: dict[str, iam.Role] = {}
        self.task_definitions: dict[str, ecs.FargateTaskDefinition] = {}
        self.log_bucket = self._log_bucket()
        self.vpc = self._network()
        self.media, self.distribution = self._media()
        self.queue, self.dead_letters = self._queue()
        self.database, self.database_sg = self._database()
        self.identity = self._email_identity()
        self.alb, self.listener = self._load_balancer()
        self.web_url = self._web_url()
        # Participants' browsers send their videos' parts straight to the bucket (signed URLs
        # for one part of one upload); the page reads each part's ETag to complete the upload.
        # Without a domain the site's origin is the load balancer's name, which the bucket
        # cannot name (the load balancer logs to a bucket whose policy names this one): any
        # origin then, which lets nothing more than the signed URLs it must hold.
        self.media.add_cors_rule(
            allowed_methods=[s3.HttpMethods.PUT],
            allowed_origins=[self.web_url if self.settings.domain_name else "*"],
            allowed_headers=["*"],
            exposed_headers=["ETag"],
            max_age=3600,
        )
        self.secret = self._config_secret()

        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            # RunningTaskCount (ECS/ContainerInsights) is the worker scaling's denominator.
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.image = ecs.ContainerImage.from_docker_image_asset(self._image())
        self.web_service, self.target_group = self._web_service()
        self.worker_service = self._worker_service()
        migration = self._migration()
        # New code reaches the services only after its migrations ran, once.
        self.web_service.node.add_dependency(migration)
        self.worker_service.node.add_dependency(migration)
        self._alarms()
        self._outputs()
        nag.acknowledge(self)

    # ------------------------------------------------------------------ network

    def _log_bucket(self) -> s3.Bucket:
        """Access logs of the load balancer, the media bucket and CloudFront; VPC flow logs."""
        return s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # ALB log delivery takes no KMS key
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront's standard logs are written with an ACL.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(self.settings.log_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _network(self) -> ec2.Vpc:
        """Two zones; public subnets for the load balancer and NAT, private ones for the tasks,
        isolated ones for the database. No SSH anywhere: a shell in a task is ECS Exec (SSM)."""
        s = self.settings
        vpc = ec2.Vpc(
            self,
            "Network",
            ip_addresses=ec2.IpAddresses.cidr(s.vpc_cidr),
            availability_zones=list(s.availability_zones),
            nat_gateways=s.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            # Originals, videos and image layers go to S3 without the NAT's per-GB charge.
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        # Every job message and every process start goes through these: no NAT traffic.
        endpoints = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=vpc, description="VideoShare AWS API endpoints"
        )
        endpoints.add_ingress_rule(
            ec2.Peer.ipv4(s.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        for name, service in (
            ("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS),
            ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
        ):
            vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[endpoints],
                open=False,
            )
        vpc.add_flow_log(
            "FlowLogs",
            destination=ec2.FlowLogDestination.to_s3(self.log_bucket, "vpc/"),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        return vpc

    @property
    def _log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[RETENTION_DAYS[self.settings.log_retention_days]]

    @property
    def private_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    # ------------------------------------------------------------------ files

    def _media(self) -> tuple[s3.Bucket, cloudfront.Distribution]:
        """One private bucket (as the seed's s3_url) behind CloudFront. CloudFront may read the
        public prefixes only: originals/ and hidden/ answer 403 through it."""
        bucket = s3.Bucket(
            self,
            "Media",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="media/",
            lifecycle_rules=[
                # An upload cut off mid-way leaves parts that are billed until aborted.
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # The origin is given the bucket by reference, so the CDK does not grant CloudFront the
        # whole bucket; the statement below grants the public prefixes alone.
        origin_bucket = s3.Bucket.from_bucket_attributes(
            self,
            "MediaOrigin",
            bucket_arn=bucket.bucket_arn,
            bucket_regional_domain_name=bucket.bucket_regional_domain_name,
        )
        distribution = cloudfront.Distribution(
            self,
            "MediaDistribution",
            comment="VideoShare public files: videos, posters, banners, streams",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    origin_bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                # The player's hls.js fetches playlists and segments from the site's pages:
                # these files are public, so any origin may read them.
                response_headers_policy=cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS,
            ),
            price_class=cloudfront.PriceClass[f"PRICE_CLASS_{self.settings.price_class.upper()}"],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsPublicFilesOnly",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(prefix + "*") for prefix in PUBLIC_PREFIXES],
                conditions={
                    "StringEquals": {"AWS:SourceArn": self._distribution_arn(distribution)}
                },
            )
        )
        return bucket, distribution

    def _distribution_arn(self, distribution: cloudfront.Distribution) -> str:
        return self.format_arn(
            service="cloudfront",
            region="",
            resource="distribution",
            resource_name=distribution.distribution_id,
        )

    # ------------------------------------------------------------------ queue, database, mail

    def _queue(self) -> tuple[sqs.Queue, sqs.Queue]:
        """The job queue (the seed's sqs_url). A taken job stays hidden for as long as the app
        lets a job run plus a minute (JOB_MAX_SECONDS + 60, config/settings.py), so SQS never
        hands a running conversion to a second worker."""
        retention = Duration.days(14)  # SQS's longest: jobs wait out a long outage
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            retention_period=retention,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        queue = sqs.Queue(
            self,
            "Jobs",
            visibility_timeout=Duration.seconds(self.settings.queue_visibility_seconds),
            retention_period=retention,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Deliveries are turns, and a turn may come back (a retry, a paused entry); only a
            # message that keeps failing ends here. The database stays the record: the sweep
            # queues a waiting entry again whatever became of its message.
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=10),
        )
        return queue, dead_letters

    def _database(self) -> tuple[rds.DatabaseInstance, ec2.SecurityGroup]:
        s = self.settings
        # Minor versions are upgraded by RDS in the maintenance window (auto_minor_version_upgrade).
        if s.db_engine == "mysql":
            engine = rds.DatabaseInstanceEngine.mysql(version=rds.MysqlEngineVersion.VER_8_4_9)
            log_exports = ["error", "slowquery"]
        else:
            engine = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_9)
            log_exports = ["postgresql"]
        # The log groups RDS exports to, made here with their retention (RDS would make them
        # without one).
        identifier = f"{self.stack_name.lower()}-database"
        log_groups = [
            logs.LogGroup(
                self,
                f"DatabaseLogs{kind.title()}",
                log_group_name=f"/aws/rds/instance/{identifier}/{kind}",
                retention=self._log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            )
            for kind in log_exports
        ]
        security_group = ec2.SecurityGroup(
            self, "DatabaseSecurityGroup", vpc=self.vpc, description="VideoShare database"
        )
        database = rds.DatabaseInstance(
            self,
            "Database",
            engine=engine,
            instance_type=ec2.InstanceType(s.db_instance_class),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[security_group],
            # The password is generated into a secret of its own; config's rds_pass refers to it.
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER, secret_name=f"{s.secret_name}/database"
            ),
            database_name=DATABASE_NAME,
            allocated_storage=s.db_storage_gb,
            max_allocated_storage=s.db_max_storage_gb,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            publicly_accessible=False,
            multi_az=s.db_multi_az,
            backup_retention=Duration.days(s.db_backup_days),
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            deletion_protection=s.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT,
            instance_identifier=identifier,
            cloudwatch_logs_exports=log_exports,
        )
        for log_group in log_groups:
            database.node.add_dependency(log_group)
        return database, security_group

    def _email_identity(self) -> ses.EmailIdentity:
        """The sender (the seed's ses_email). An address gets a verification email from AWS
        at the first deploy; a domain needs the DKIM records of the stack's outputs."""
        name = self.settings.email_identity
        identity = ses.Identity.email(name) if "@" in name else ses.Identity.domain(name)
        return ses.EmailIdentity(self, "Sender", identity=identity)

    # ------------------------------------------------------------------ web entry

    def _load_balancer(self) -> tuple[elbv2.ApplicationLoadBalancer, elbv2.ApplicationListener]:
        s = self.settings
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
        )
        alb.log_access_logs(self.log_bucket, prefix="alb")
        if s.https:
            listener = alb.add_listener(
                "Https",
                port=443,
                certificates=[elbv2.ListenerCertificate.from_arn(s.certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            )
            alb.add_redirect(source_port=80, target_port=443)
        else:
            listener = alb.add_listener("Http", port=80)
        if s.hosted_zone_id:
            zone = route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=s.hosted_zone_id, zone_name=s.hosted_zone_name
            )
            route53.ARecord(
                self,
                "WebAddress",
                zone=zone,
                record_name=s.domain_name,
                target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(alb)),
            )
        return alb, listener

    def _web_url(self) -> str:
        """web_url: the app makes HTTPS settings (secure cookies, redirects, HSTS) from its
        scheme, so it is https:// only when the load balancer ends TLS."""
        s = self.settings
        if s.domain_name:
            return ("https://" if s.https else "http://") + s.domain_name
        return "http://" + self.alb.load_balancer_dns_name

    # ------------------------------------------------------------------ configuration

    def _config_secret(self) -> secretsmanager.Secret:
        """The original's secret, with its keys and names, filled in by the stack; every process
        reads it through config.conf's [SECRETS] name and region, as before. Secrets are not
        written into the template: rds_pass and secret_key are references CloudFormation
        resolves while deploying."""
        s = self.settings
        secret_key = secretsmanager.Secret(
            self,
            "SecretKey",
            description="VideoShare: Django's secret_key, one for every instance",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        splunk_token = (
            SecretValue.secrets_manager(s.splunk_token_secret)
            if s.splunk_token_secret
            else SecretValue.unsafe_plain_text("")
        )
        # The load balancer's nodes live in the public subnets: X-Forwarded-* are believed from
        # there only (the web tasks accept connections from the load balancer alone anyway).
        proxies = ",".join(subnet.ipv4_cidr_block for subnet in self.vpc.public_subnets)
        text = SecretValue.unsafe_plain_text  # for what is no secret: names, addresses, sizes
        values = {
            # the seed's keys, in its order
            "web_url": text(self.web_url),
            "web_port": text(str(s.web_port)),
            "rds_url": text(self.database.db_instance_endpoint_address),
            "rds_port": text(self.database.db_instance_endpoint_port),
            "rds_user": text(DATABASE_USER),
            "rds_pass": self.database.secret.secret_value_from_json("password"),
            "rds_db": text(DATABASE_NAME),
            "sqs_url": text(self.queue.queue_url),
            "s3_url": text(self.media.bucket_name),
            # the seed stores the distribution's subdomain: d111abc of d111abc.cloudfront.net
            "cf_url": text(cdk.Fn.select(0, cdk.Fn.split(".", self.distribution.domain_name))),
            "ses_email": text(s.sender_email),
            "splunk_api_url": text(s.splunk_api_url),
            "splunk_api_port": text(s.splunk_api_port),
            "splunk_api_protocol": text(s.splunk_api_protocol),
            "splunk_api_token": splunk_token,
            "splunk_index": text(s.splunk_index),
            "splunk_source": text(s.splunk_source),
            "splunk_sourcetype": text(s.splunk_sourcetype),
            # keys VideoShare adds
            "secret_key": secret_key.secret_value,
            "db_engine": text(s.db_engine),
            "forwarded_allow_ips": text(proxies),
            "cf_distribution_id": text(self.distribution.distribution_id),
            "convert_timeout": text(str(s.convert_timeout)),
            "web_drain_seconds": text(str(s.web_drain_seconds)),
        }
        return secretsmanager.Secret(
            self,
            "Config",
            secret_name=s.secret_name,
            description="VideoShare's configuration keys (config.conf [SECRETS] name)",
            secret_object_value=values,
        )

    @property
    def _secret_version(self) -> str:
        """A digest of the secret as the template defines it (references included)."""
        secret = self.secret.node.default_child
        text = json.dumps(self.resolve(secret.secret_string), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _config_conf(self, keys: dict[str, object]) -> str:
        """config.conf as the original instances had it, plus the tier's own keys (below the
        secret in precedence: a key set in the secret wins).

        Processes read the secret when they start. Its version in the first line makes every
        task definition change when the stack changes the secret (a domain, a new queue...),
        so the deploy replaces the running tasks, which then read the new values."""
        lines = [
            f"# {self.secret.node.path}: {self._secret_version}",
            "[SECRETS]",
            f"name = {self.settings.secret_name}",
            f"region = {self.region}",
            "",
            "[FFMPEG]",
            "ffmpeg = ffmpeg",
        ]
        if keys:
            lines += ["", "[VIDEOSHARE]", *(f"{key} = {value}" for key, value in keys.items())]
        return "\n".join(lines)

    # ------------------------------------------------------------------ tasks

    def _image(self) -> ecr_assets.DockerImageAsset:
        """Built by `cdk deploy` from deploy/aws/Dockerfile (Docker needed there, not here:
        synthesizing only fingerprints the files)."""
        arm = self.settings.cpu_architecture == "arm64"
        return ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(ROOT),
            file="deploy/aws/Dockerfile",
            platform=ecr_assets.Platform.LINUX_ARM64 if arm else ecr_assets.Platform.LINUX_AMD64,
            ignore_mode=cdk.IgnoreMode.DOCKER,
            exclude=["*", *(f"!{path}" for path in IMAGE_FILES), "**/__pycache__", "**/*.pyc"],
        )

    def _task_role(self, name: str) -> iam.Role:
        role = iam.Role(
            self,
            f"{name.title()}Role",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"VideoShare {name} tasks",
        )
        self.secret.grant_read(role)
        self.roles[name] = role
        return role

    def _task_definition(
        self, name: str, *, cpu: int, memory_mb: int, role: iam.Role, command: list[str], keys
    ) -> ecs.FargateTaskDefinition:
        s = self.settings
        arm = s.cpu_architecture == "arm64"
        definition = ecs.FargateTaskDefinition(
            self,
            f"{name.title()}Task",
            cpu=cpu,
            memory_limit_mib=memory_mb,
            task_role=role,
            ephemeral_storage_gib=s.ephemeral_storage_gb if s.ephemeral_storage_gb > 20 else None,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64 if arm else ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        log_group = logs.LogGroup(
            self,
            f"{name.title()}Logs",
            retention=self._log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        definition.add_container(
            name,
            image=self.image,
            command=command,
            environment={"CONFIG_CONF": self._config_conf(keys)},
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=log_group),
            stop_timeout=Duration.seconds(STOP_SECONDS),
            port_mappings=[ecs.PortMapping(container_port=s.web_port)] if name == WEB else None,
        )
        self.task_definitions[name] = definition
        return definition

    def _allow_files(self, role: iam.Role, actions: list[str], prefixes) -> None:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[self.media.arn_for_objects(prefix + "*") for prefix in prefixes],
            )
        )

    def _allow_common(self, role: iam.Role, queue_actions: list[str]) -> None:
        """What both tiers do: find out whether a file exists (HEAD answers 404, not 403, only
        with ListBucket), use the queue, and send mail as the sender."""
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.media.bucket_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=queue_actions, resources=[self.queue.queue_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[self.identity.email_identity_arn],
            )
        )

    def _web_service(self) -> tuple[ecs.FargateService, elbv2.ApplicationTargetGroup]:
        s = self.settings
        role = self._task_role(WEB)
        # Uploads (originals/), banners, hiding and showing entries (moves between videos/,
        # posters/ and hidden/), deleting a contest's files, the organizer's signed links.
        self._allow_files(
            role,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            ALL_PREFIXES,
        )
        self._allow_files(role, ["s3:GetObjectTagging", "s3:PutObjectTagging"], MOVED_PREFIXES)
        self._allow_common(role, ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"])
        # A hidden or deleted file leaves CloudFront's caches at once.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudfront:CreateInvalidation"],
                resources=[self._distribution_arn(self.distribution)],
            )
        )
        definition = self._task_definition(
            WEB,
            cpu=s.web_cpu,
            memory_mb=s.web_memory_mb,
            role=role,
            command=["gunicorn", "config.asgi:application"],
            keys={"web_workers": s.web_workers},
        )
        service = self._tier_service(
            "Web", definition, health_check_grace_period=Duration.seconds(60)
        )
        service.connections.security_groups[0].add_ingress_rule(
            self.alb.connections.security_groups[0],
            ec2.Port.tcp(s.web_port),
            "from the load balancer only",
        )
        target_group = self.listener.add_targets(
            "Web",
            port=s.web_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service.load_balancer_target(container_name=WEB, container_port=s.web_port)],
            health_check=elbv2.HealthCheck(
                path="/health",
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
            # An instance being replaced gets the app's drain time for uploads in progress.
            deregistration_delay=Duration.seconds(s.web_drain_seconds),
        )
        # The original's policy: target tracking on the web tier's CPU.
        scaling = service.auto_scale_task_count(min_capacity=s.web_min, max_capacity=s.web_max)
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=s.web_cpu_target,
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )
        return service, target_group

    def _tier_service(self, tier: str, definition, **options) -> ecs.FargateService:
        """A tier's tasks in the private subnets, in a security group the database admits,
        deployed a task at a time with rollback, reachable by ECS Exec only."""
        security_group = ec2.SecurityGroup(
            self,
            f"{tier}SecurityGroup",
            vpc=self.vpc,
            description=f"VideoShare {tier.lower()} tasks",
        )
        self.database_sg.add_ingress_rule(
            security_group, ec2.Port.tcp(self._database_port), f"{tier.lower()} tasks"
        )
        return ecs.FargateService(
            self,
            f"{tier}Service",
            cluster=self.cluster,
            task_definition=definition,
            vpc_subnets=self.private_subnets,
            security_groups=[security_group],
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            enable_execute_command=True,
            **options,
        )

    @property
    def _database_port(self) -> int:
        return 3306 if self.settings.db_engine == "mysql" else 5432

    def _worker_service(self) -> ecs.FargateService:
        s = self.settings
        role = self._task_role(WORKER)
        # Read an original; write an entry's MP4 and poster (public, or hidden/ when the entry
        # was hidden while converting); remove half-written outputs.
        self._allow_files(role, ["s3:GetObject"], [ORIGINALS_PREFIX])
        self._allow_files(
            role,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            MOVED_PREFIXES,
        )
        self._allow_files(role, ["s3:GetObjectTagging", "s3:PutObjectTagging"], MOVED_PREFIXES)
        # Take jobs; the sweep sends lost ones again. The visibility timeout is set here, so the
        # worker never has to raise it (no SetQueueAttributes).
        self._allow_common(
            role,
            [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:SendMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
            ],
        )
        definition = self._task_definition(
            WORKER,
            cpu=s.worker_cpu,
            memory_mb=s.worker_memory_mb,
            role=role,
            # The wrapper protects the task from scale-in while it converts.
            command=[
                "python",
                "deploy/aws/runtime/protected_worker.py",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
            ],
            keys={"worker_concurrency": s.worker_concurrency},
        )
        service = self._tier_service("Worker", definition)
        self._worker_scaling(service)
        return service

    def _worker_scaling(self, service: ecs.FargateService) -> None:
        """Backlog per task: the queue's waiting jobs divided by the running worker tasks, kept
        near worker_backlog_per_task by target tracking (AWS's "backlog per instance" pattern).
        The CDK's scaling helpers take no metric math, hence the CloudFormation-level policy."""
        s = self.settings
        scaling = service.auto_scale_task_count(
            min_capacity=s.worker_min, max_capacity=s.worker_max
        )
        target = scaling.node.find_child("Target")
        policy = appscaling.CfnScalingPolicy
        queued = policy.TargetTrackingMetricDataQueryProperty(
            id="queued",
            metric_stat=policy.TargetTrackingMetricStatProperty(
                metric=policy.TargetTrackingMetricProperty(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions=[
                        policy.TargetTrackingMetricDimensionProperty(
                            name="QueueName", value=self.queue.queue_name
                        )
                    ],
                ),
                stat="Sum",
            ),
            return_data=False,
        )
        tasks = policy.TargetTrackingMetricDataQueryProperty(
            id="tasks",
            metric_stat=policy.TargetTrackingMetricStatProperty(
                metric=policy.TargetTrackingMetricProperty(
                    namespace="ECS/ContainerInsights",
                    metric_name="RunningTaskCount",
                    dimensions=[
                        policy.TargetTrackingMetricDimensionProperty(
                            name="ClusterName", value=self.cluster.cluster_name
                        ),
                        policy.TargetTrackingMetricDimensionProperty(
                            name="ServiceName", value=service.service_name
                        ),
                    ],
                ),
                stat="Average",
            ),
            return_data=False,
        )
        backlog = policy.TargetTrackingMetricDataQueryProperty(
            id="backlog_per_task",
            expression="queued / IF(tasks > 0, tasks, 1)",
            label="Jobs waiting per running worker task",
            return_data=True,
        )
        appscaling.CfnScalingPolicy(
            self,
            "WorkerBacklogPerTask",
            policy_name=f"{self.stack_name}-worker-backlog-per-task",
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.node.default_child.ref,
            target_tracking_scaling_policy_configuration=policy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=float(s.worker_backlog_per_task),
                customized_metric_specification=policy.CustomizedMetricSpecificationProperty(
                    metrics=[queued, tasks, backlog]
                ),
                scale_out_cooldown=60,
                # Scaling in stops idle tasks only: converting ones are protected.
                scale_in_cooldown=300,
            ),
        )
        if s.worker_min == 0:
            self._worker_start_from_zero(target)

    def _worker_start_from_zero(self, target) -> None:
        """With no worker, target tracking has no task to divide by and no capacity to grow:
        a step policy starts one when jobs wait and none is being worked on."""
        start = appscaling.StepScalingAction(
            self,
            "WorkerStartFromZero",
            scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.minutes(2),
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
        )
        start.add_adjustment(adjustment=1, lower_bound=0)
        waiting = cloudwatch.MathExpression(
            expression="IF(queued > 0 AND taken == 0, 1, 0)",
            using_metrics={
                "queued": self.queue.metric_approximate_number_of_messages_visible(),
                "taken": self.queue.metric_approximate_number_of_messages_not_visible(),
            },
            period=Duration.minutes(1),
            label="Jobs waiting that no worker takes",
        )
        alarm = cloudwatch.Alarm(
            self,
            "WorkerNeeded",
            alarm_description="Jobs wait and no worker takes them: start one",
            metric=waiting,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.ApplicationScalingAction(start))

    # ------------------------------------------------------------------ migrations

    def _migration(self) -> cdk.CustomResource:
        """One `manage.py migrate` per deploy that changes the task definition (new image or
        settings), as an ECS task, waited for; never on a web or worker task's start."""
        role = self._task_role(MIGRATE)
        definition = self._task_definition(
            MIGRATE,
            cpu=512,
            memory_mb=1024,
            role=role,
            command=["python", "manage.py", "migrate", "--noinput"],
            keys={},
        )
        security_group = ec2.SecurityGroup(
            self, "MigrateSecurityGroup", vpc=self.vpc, description="VideoShare migrations"
        )
        self.database_sg.add_ingress_rule(
            security_group, ec2.Port.tcp(self._database_port), "migrations"
        )
        code = lambda_.Code.from_asset(str(HERE.parent / "migration"))
        handler_logs = logs.LogGroup(
            self,
            "MigrationHandlerLogs",
            retention=self._log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        handlers = {}
        for name in ("on_event", "is_complete"):
            handlers[name] = lambda_.Function(
                self,
                "Migration" + name.title().replace("_", ""),
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler=f"handler.{name}",
                code=code,
                timeout=Duration.minutes(1),
                description=f"VideoShare migrations: {name}",
                log_group=handler_logs,
            )
        handlers["on_event"].add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[definition.task_definition_arn],
                conditions={"ArnEquals": {"ecs:cluster": self.cluster.cluster_arn}},
            )
        )
        handlers["on_event"].add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn, definition.obtain_execution_role().role_arn],
            )
        )
        handlers["is_complete"].add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"],
                resources=[
                    self.format_arn(
                        service="ecs",
                        resource="task",
                        resource_name=f"{self.cluster.cluster_name}/*",
                    )
                ],
            )
        )
        provider = custom_resources.Provider(
            self,
            "MigrationProvider",
            on_event_handler=handlers["on_event"],
            is_complete_handler=handlers["is_complete"],
            query_interval=Duration.seconds(15),
            total_timeout=Duration.minutes(30),
            log_group=handler_logs,
        )
        self.migration_handlers, self.migration_provider = handlers, provider
        migration = cdk.CustomResource(
            self,
            "Migration",
            service_token=provider.service_token,
            resource_type="Custom::VideoShareMigration",
            properties={
                "Cluster": self.cluster.cluster_name,
                "TaskDefinition": definition.task_definition_arn,
                "Container": MIGRATE,
                "Subnets": self.vpc.select_subnets(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ).subnet_ids,
                "SecurityGroups": [security_group.security_group_id],
            },
        )
        # The task reads the secret (its role's policy), reaches the database and pulls the
        # image through the network's routes and endpoints: all there before it starts.
        for needed in (definition, role, self.secret, self.database, self.vpc):
            migration.node.add_dependency(needed)
        return migration

    # ------------------------------------------------------------------ monitoring

    def _alarms(self) -> None:
        s = self.settings
        topic = sns.Topic(self, "Alarms", display_name="VideoShare alarms", enforce_ssl=True)
        if s.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(s.alarm_email))
        notify = cw_actions.SnsAction(topic)
        five = Duration.minutes(5)

        errors = cloudwatch.MathExpression(
            expression="100 * (FILL(target, 0) + FILL(balancer, 0)) / requests",
            using_metrics={
                "target": self.alb.metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=five
                ),
                "balancer": self.alb.metrics.http_code_elb(
                    elbv2.HttpCodeElb.ELB_5XX_COUNT, period=five
                ),
                "requests": self.alb.metrics.request_count(period=five),
            },
            period=five,
            label="5xx answers, % of requests",
        )
        alarms = [
            cloudwatch.Alarm(
                self,
                "ServerErrorsAlarm",
                alarm_description=f"More than {s.error_rate_alarm_percent}% of requests "
                "answered 5xx over 5 minutes",
                metric=errors,
                threshold=s.error_rate_alarm_percent,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "NoHealthyWebTaskAlarm",
                alarm_description="The load balancer has no healthy web task",
                metric=self.target_group.metrics.healthy_host_count(period=Duration.minutes(1)),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "QueueAgeAlarm",
                alarm_description=f"A job has waited more than {s.queue_age_alarm_minutes} "
                "minutes in the queue",
                metric=self.queue.metric_approximate_age_of_oldest_message(
                    period=five, statistic="Maximum"
                ),
                threshold=s.queue_age_alarm_minutes * 60,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "DeadLettersAlarm",
                alarm_description="Job messages kept failing and were set aside (dead-letter "
                "queue not empty)",
                metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)

    def _outputs(self) -> None:
        outputs = {
            "WebUrl": self.web_url,
            "LoadBalancerDns": self.alb.load_balancer_dns_name,
            "MediaHost": self.distribution.domain_name,
            "ConfigSecretName": self.settings.secret_name,
            "ClusterName": self.cluster.cluster_name,
            "WebServiceName": self.web_service.service_name,
            "WorkerServiceName": self.worker_service.service_name,
            "BucketName": self.media.bucket_name,
            "QueueUrl": self.queue.queue_url,
            "DatabaseEndpoint": self.database.db_instance_endpoint_address,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
        if "@" not in self.settings.email_identity:
            for number, record in enumerate(self.identity.dkim_records, start=1):
                cdk.CfnOutput(
                    self, f"DkimRecord{number}", value=f"{record.name} CNAME {record.value}"
                )
