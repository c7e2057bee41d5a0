import { useAccess } from './Access.js';
import { Link } from './Link.js';

/** The top bar: the pages the user may see, who is signed in (their account page) and signing out. */
export function SiteHeader({ onSignOut }: { onSignOut: () => void }) {
  const { me, may, mayList } = useAccess();
  const seesInfrastructure = mayList('environment:view') || may('target:view') || may('worker:view');
  return (
    <header className="top">
      <span className="brand">Longshore</span>
      <nav aria-label="Main">
        <Link to="/">Dashboard</Link>
        {mayList('project:view') && <Link to="/projects">Projects</Link>}
        {seesInfrastructure && <Link to="/infrastructure">Infrastructure</Link>}
        {may('audit:view') && <Link to="/audit">Audit</Link>}
        {may('user:manage') && <Link to="/users">Users</Link>}
      </nav>
      <span className="signed-in">
        <span>
          Signed in as <Link to="/account">{me.displayName}</Link>
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </span>
    </header>
  );
}
