"""Validate rendered Kubernetes objects offline.

usage: validate.py KUBERNETES_VERSION CRD_DIR FILE...

Every object is checked against the schemas of that Kubernetes release
(kubernetes-validate, strict: unknown fields are errors). Objects of a
CustomResourceDefinition found in CRD_DIR (the ServiceMonitor's) are checked
against the CRD's openAPIV3Schema, also rejecting unknown fields. Prints one
line per object; exits 1 when any object fails or has no schema.
"""
import glob
import os
import sys

import jsonschema
import kubernetes_validate
import yaml


def crd_schemas(crd_dir):
    """(apiVersion, kind) -> JSON schema, from every CRD file in crd_dir."""
    out = {}
    for path in sorted(glob.glob(os.path.join(crd_dir, '*.yaml'))):
        for doc in yaml.safe_load_all(open(path)):
            if not doc or doc.get('kind') != 'CustomResourceDefinition':
                continue
            group = doc['spec']['group']
            kind = doc['spec']['names']['kind']
            for v in doc['spec']['versions']:
                out[(f"{group}/{v['name']}", kind)] = strict(v['schema']['openAPIV3Schema'])
    return out


def strict(schema):
    """OpenAPI v3 structural schema -> JSON schema that refuses unknown fields."""
    if isinstance(schema, dict):
        s = {k: strict(v) for k, v in schema.items() if not k.startswith('x-kubernetes-')}
        if schema.get('x-kubernetes-int-or-string'):
            s.pop('type', None)
            s['anyOf'] = [{'type': 'integer'}, {'type': 'string'}]
        if s.get('type') == 'object' and 'properties' in s and 'additionalProperties' not in s \
                and not schema.get('x-kubernetes-preserve-unknown-fields'):
            s['additionalProperties'] = False
        return s
    if isinstance(schema, list):
        return [strict(x) for x in schema]
    return schema


def main():
    version, crd_dir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    crds = crd_schemas(crd_dir)
    if not crds:
        print(f'validate: no CRDs in {crd_dir}')
        return 1
    failed = 0
    total = 0
    for path in files:
        for obj in yaml.safe_load_all(open(path)):
            if not obj:
                continue
            total += 1
            name = f"{path}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
            key = (obj.get('apiVersion'), obj.get('kind'))
            try:
                if key in crds:
                    jsonschema.validate(obj, crds[key])
                    for field in ('apiVersion', 'kind', 'metadata'):
                        if field not in obj:
                            raise jsonschema.ValidationError(f'{field} missing')
                    print(f'ok    {name} (CRD schema)')
                else:
                    kubernetes_validate.validate(obj, version, strict=True)
                    print(f'ok    {name} (Kubernetes {version})')
            except (jsonschema.ValidationError, kubernetes_validate.utils.ValidationError) as e:
                failed += 1
                where = '.'.join(str(p) for p in e.path)
                print(f'FAIL  {name}: {where}: {e.message}')
            except kubernetes_validate.utils.SchemaNotFoundError as e:
                failed += 1
                print(f'FAIL  {name}: no schema: {e}')
    print(f'validate: {total} objects, {failed} failed')
    return 1 if failed or total == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
