import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { createApi } from '../shared/api.ts';
import { ApiProvider, createQueryClient } from '../shared/session.tsx';
import '../shared/styles.css';
import './admin.css';
import { App } from './App.tsx';

// Its own session key: signing in to the portal as a seller does not sign the storefront in.
const api = createApi({ sessionKey: 'bazaar.admin.session', cartTokenKey: 'bazaar.admin.cartToken' });
const client = createQueryClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApiProvider api={api} client={client}>
      {/* Without transitions a URL change renders at once: inputs and checkboxes whose value lives in
          the query string (filters, search boxes) must not lag behind what the person just did. */}
      <BrowserRouter useTransitions={false} basename="/admin">
        <App />
      </BrowserRouter>
    </ApiProvider>
  </StrictMode>,
);
