#!/usr/bin/env python3
"""Extracts the recorded real v4 sessions (lexicon-gandi RPC-IntegrationTests, Gandi 2018) into
lexicon_rpc_sessions.json for the replay test in mock-gandi/tests/xmlrpc_replay.rs.

Usage: gen_lexicon_sessions.py <folder of the recorded *.yaml files>
Only request and response bodies are kept; domain.info answers are cut to the members the
replay reads (zone_id, fqdn), which keeps the file small.
"""
import glob
import json
import os
import re
import sys

import yaml


def main(folder):
    sessions = []
    for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
        with open(path) as f:
            cassette = yaml.safe_load(f)
        exchanges = []
        for i in cassette["interactions"]:
            request = i["request"]["body"]
            response = i["response"]["body"]["string"]
            if "<methodName>domain.info</methodName>" in request and "<fault>" not in response:
                zone = re.search(r"<name>zone_id</name>\n<value><int>(\d+)</int>", response).group(1)
                fqdn = re.search(r"<name>fqdn</name>\n<value><string>([^<]*)</string>", response).group(1)
                response = {"zone_id": int(zone), "fqdn": fqdn}
            exchanges.append({"request": request, "response": response})
        sessions.append({"name": os.path.basename(path)[:-5], "exchanges": exchanges})
    with open("lexicon_rpc_sessions.json", "w") as f:
        json.dump(sessions, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
