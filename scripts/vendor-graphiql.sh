#!/usr/bin/env bash
# Vendors the GraphiQL 4.1.2 UMD bundle, React/ReactDOM 18.2.0 and the
# explorer (query builder) plugin @graphiql/plugin-explorer 4.0.6 into
# internal/graphiql/assets/ so the GraphiQL page works without internet.
#
# The files are fetched with `npm pack` and checked against SHA-256 sums:
# for GraphiQL, React, ReactDOM and the explorer's script, the SRI hashes
# that gqlgen v0.17.90's playground uses for the same files on its CDN; for
# the explorer's stylesheet (gqlgen loads a CDN-minified copy that npm does
# not ship) the sum of npm's dist/style.css. The constants in
# internal/graphiql/graphiql.go are the same. Any mismatch aborts without
# touching assets/. Builds and CI do not need this script: the output is
# committed. custgraph's own files there (custgraph-graphiql.*) are not
# vendored: they are written here.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/internal/graphiql/assets"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent graphiql@4.1.2 react@18.2.0 react-dom@18.2.0 \
	@graphiql/plugin-explorer@4.0.6 graphiql-explorer@0.9.0 >/dev/null
for pkg in graphiql-4.1.2 react-18.2.0 react-dom-18.2.0 graphiql-plugin-explorer-4.0.6 graphiql-explorer-0.9.0; do
	mkdir "$pkg"
	tar -xzf "$pkg.tgz" -C "$pkg"
done

mkdir out
cp graphiql-4.1.2/package/graphiql.min.js out/graphiql.min.js
cp graphiql-4.1.2/package/graphiql.min.css out/graphiql.min.css
cp react-18.2.0/package/umd/react.production.min.js out/react.production.min.js
cp react-dom-18.2.0/package/umd/react-dom.production.min.js out/react-dom.production.min.js
cp graphiql-4.1.2/package/LICENSE out/LICENSE-graphiql.txt
cp react-18.2.0/package/LICENSE out/LICENSE-react.txt
cp react-dom-18.2.0/package/LICENSE out/LICENSE-react-dom.txt
cp graphiql-plugin-explorer-4.0.6/package/dist/index.umd.js out/graphiql-plugin-explorer.umd.js
cp graphiql-plugin-explorer-4.0.6/package/dist/style.css out/graphiql-plugin-explorer.css
# The explorer package ships no license file: it is MIT ("license" in its
# package.json) from the graphql/graphiql repository, whose license graphiql
# ships, and its bundle includes graphiql-explorer (MIT).
{
	echo "@graphiql/plugin-explorer 4.0.6: MIT (package.json), from the graphql/graphiql repository:"
	echo
	cat graphiql-4.1.2/package/LICENSE
	echo
	echo "It bundles graphiql-explorer 0.9.0:"
	echo
	cat graphiql-explorer-0.9.0/package/LICENSE
} >out/LICENSE-graphiql-plugin-explorer.txt

# file SRI (sha256, base64) — must match the constants in graphiql.go.
expected="graphiql.min.js sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=
graphiql.min.css sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=
react.production.min.js sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=
react-dom.production.min.js sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=
graphiql-plugin-explorer.umd.js sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs=
graphiql-plugin-explorer.css sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE="

fail=0
while read -r file want; do
	got="sha256-$(openssl dgst -sha256 -binary "out/$file" | openssl base64 -A)"
	if [ "$got" = "$want" ]; then
		echo "OK       $file $got"
	else
		echo "MISMATCH $file: got $got, want $want" >&2
		fail=1
	fi
done <<<"$expected"
if [ "$fail" -ne 0 ]; then
	echo "vendor-graphiql: SHA-256 mismatch, assets not updated" >&2
	exit 1
fi

mkdir -p "$dest"
cp out/* "$dest/"
echo "vendor-graphiql: wrote $(ls out | wc -l) files to ${dest#"$repo_root"/}"
