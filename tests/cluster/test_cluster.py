"""The distributed design on one machine: two web processes behind nginx, two workers,
PostgreSQL, RabbitMQ, S3 and SES (moto's server). Each process has its own empty data folder:
nothing is shared but the servers, as on separate machines.
"""

import secrets
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests

from tests import databases
from tests.aws.conftest import sent_through_ses
from tests.e2e.service import BIN, Service, free_port, open_contest
from tests.media import make_clip
from tests.servers import MotoServer, require_server, unavailable

pytestmark = pytest.mark.e2e

UPLOADS = 20
NGINX_CONF = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_max_body_size 2g;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream web {{ server 127.0.0.1:{web_a}; server 127.0.0.1:{web_b}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://web;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }}
    }}
}}
"""


class LoadBalancer:
    def __init__(self, folder: Path, web_ports: tuple[int, int]):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            unavailable("nginx is not installed (apt-get install nginx)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(folder=folder, web_a=web_ports[0], web_b=web_ports[1], port=self.port)
        )
        self.process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(folder), "-g", "daemon off;"],
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def own_moto_server():
    """A local AWS of the cluster's own: what other tests left in a shared one stays out."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(own_moto_server, tmp_path_factory):
    moto_server = own_moto_server
    require_server("postgresql")
    require_server("rabbitmq")
    folder = tmp_path_factory.mktemp("cluster")
    admin = {
        "ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": "5432",
        "USER": "postgres", "PASSWORD": "",
    }  # fmt: skip
    database = databases.create(admin)
    bucket = f"videoshare-{uuid.uuid4().hex[:12]}"
    sender = f"contests-{uuid.uuid4().hex[:8]}@example.org"
    aws_env = moto_server.env()
    aws = {"endpoint_url": moto_server.url, "region_name": "us-east-1",
           "aws_access_key_id": "test", "aws_secret_access_key": "test"}  # fmt: skip
    boto3.client("s3", **aws).create_bucket(Bucket=bucket)
    boto3.client("ses", **aws).verify_email_identity(EmailAddress=sender)
    vhost = f"videoshare-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True, capture_output=True,
    )  # fmt: skip

    web_ports = (free_port(), free_port())
    balancer_port_folder = folder / "nginx"
    shared = {
        "db_engine": "postgresql", "rds_url": "127.0.0.1", "rds_port": "5432",
        "rds_user": "postgres", "rds_pass": "", "rds_db": database,
        "broker_url": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "s3_url": bucket, "cf_url": "dcluster", "ses_email": sender, "secret_name": "",
        # One key for the cluster: a link signed by one web instance works on the other.
        "secret_key": secrets.token_urlsafe(50),
    }  # fmt: skip
    processes = {
        name: Service(folder / name, extra_env=aws_env, **shared)
        for name in ("web-a", "web-b", "worker-1", "worker-2")
    }
    balancer = LoadBalancer(balancer_port_folder, web_ports)
    try:
        for name, port in zip(("web-a", "web-b"), web_ports, strict=True):
            service = processes[name]
            service.port, service.url = port, f"http://127.0.0.1:{port}"
            service.env["VIDEOSHARE_WEB_PORT"] = str(port)
        for service in processes.values():
            service.env["VIDEOSHARE_WEB_URL"] = balancer.url  # links in emails: the balancer
        processes["web-a"].manage("migrate", "--noinput", "-v0")
        for name in ("web-a", "web-b"):
            processes[name].manage("collectstatic", "--noinput", "-v0")
            processes[name].spawn("web", [str(BIN / "gunicorn"), "config.asgi:application"])
        for name in ("worker-1", "worker-2"):
            processes[name].start_worker(name)
        for name in ("web-a", "web-b"):
            processes[name].wait_until(processes[name].healthy, 60, f"{name} to answer")
        yield balancer, processes, moto_server, bucket
    finally:
        for service in processes.values():
            service.stop()
        balancer.stop()
        databases.drop(admin, database)
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)


def test_twenty_uploads_through_the_load_balancer(cluster, tmp_path):
    balancer, processes, moto_server, bucket = cluster
    owner = open_contest(
        balancer.url, "cluster-cup", "Cluster cup", lambda a: sent_through_ses(moto_server, a)
    )

    clips = [make_clip(tmp_path / f"entry{i}{suffix}", seconds=1)
             for i, suffix in enumerate((".flv", ".wmv", ".avi", ".mp4"))]  # fmt: skip
    started = time.monotonic()
    ids = {}
    for n in range(UPLOADS):
        clip = clips[n % len(clips)]
        with open(clip, "rb") as handle:
            response = requests.post(
                f"{balancer.url}/api/v1/contests/cluster-cup/videos",
                data={"first_name": f"P{n}", "last_name": "L", "email": f"p{n}@example.com"},
                files={"file": (clip.name, handle)},
                timeout=60,
            )
        assert response.status_code == 202, response.text
        ids[f"p{n}@example.com"] = response.json()["id"]

    def all_ready():
        listing = owner.get(f"{balancer.url}/api/v1/contests/cluster-cup/videos?status=ready")
        return listing.json()["count"] == UPLOADS

    processes["web-a"].wait_until(all_ready, 300, "all uploads to be ready")
    processes["web-a"].wait_until(
        lambda: all(sent_through_ses(moto_server, address) for address in ids),
        120, "an email to every participant",
    )  # fmt: skip
    elapsed = time.monotonic() - started
    print(f"\n{UPLOADS} uploads to {UPLOADS} emails through the cluster: {elapsed:.1f} s")

    time.sleep(3)  # a duplicate would come now
    for address in ids:
        assert len(sent_through_ses(moto_server, address)) == 1, address

    # Both web processes took uploads (round robin), and each serves what the other received.
    for name in ("web-a", "web-b"):
        log = (processes[name].logs / "web.log").read_text()
        assert log.count("POST /api/v1/contests/cluster-cup/videos") >= UPLOADS // 4, name
        page = requests.get(f"{processes[name].url}/cluster-cup/").text
        assert f"({UPLOADS})" in page, name
    # Files live in S3 only; links go through CloudFront.
    keys = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test").list_objects_v2(
        Bucket=bucket, Prefix="videos/")["KeyCount"]  # fmt: skip
    assert keys == UPLOADS
    public = requests.get(f"{balancer.url}/api/v1/contests/cluster-cup/videos").json()
    assert public["results"][0]["video_url"].startswith("https://dcluster.cloudfront.net/videos/")
    for service in processes.values():
        assert not list((service.data_dir / "media").rglob("*.mp4"))
